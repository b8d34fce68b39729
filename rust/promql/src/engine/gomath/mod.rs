//! Go 1.19's `math` package as Debian's Prometheus 2.42 runs it (Go 1.19.8 on
//! amd64), operation for operation, so that PromQL's math functions and the
//! `^` and `atan2` operators round exactly as Prometheus does. Rust's `f64`
//! methods call the C library, whose results differ in the last bit (and for
//! huge trigonometric arguments in more), which shows in answers and in
//! `count_values` labels.
//!
//! One file per family, each naming the Go sources it follows:
//! - [`exp_log`]: `Exp` and `Log` (amd64 assembly), `Log10`, `Log2`, `Log1p`;
//! - [`trig`]: `Sin`, `Cos`, `Tan` with Payne–Hanek reduction;
//! - [`inverse_trig`]: `Asin`, `Acos`, `Atan`, `Atan2`;
//! - [`hyperbolic`]: `Sinh`, `Cosh`, `Tanh`, `Asinh`, `Acosh`, `Atanh`;
//! - [`pow`][]: `Pow`;
//! - [`scale`]: `Frexp` and `Ldexp`, which `Log2` and `Pow` use.
//!
//! `Sqrt`, `Floor`, `Ceil`, `Trunc` and `Abs` are exact in both languages,
//! and `%` is: Go's `math.Mod` and the C library's `fmod` both return the
//! exact remainder with the sign of the dividend (see the tests below).
//! `deg` and `rad` are one multiplication and one division either way. Go's
//! `Hypot` (assembly on amd64) and `Expm1` are not reached from PromQL.
//!
//! tests/promql/test_gomath.py compares every function with a real
//! Prometheus on a few thousand inputs; the tests below also pin answers of
//! Go's `Exp` without FMA, taken from Prometheus run with
//! `GODEBUG=cpu.fma=off`.

// Constants keep the decimal digits of Go's sources: each still rounds to
// the same double, and the digits can be checked against them.
#![allow(clippy::excessive_precision)]

mod exp_log;
mod hyperbolic;
mod inverse_trig;
mod pow;
mod scale;
mod trig;

pub(crate) use exp_log::{exp, ln, log10, log2};
pub(crate) use hyperbolic::{acosh, asinh, atanh, cosh, sinh, tanh};
pub(crate) use inverse_trig::{acos, asin, atan, atan2};
pub(crate) use pow::pow;
pub(crate) use trig::{cos, sin, tan};

#[cfg(test)]
mod tests {
    use super::scale::{frexp, ldexp};

    /// Go's `math.Mod`, written out for comparison: subtract the largest
    /// `y * 2^k` that fits, until less than `y` is left.
    fn go_mod(x: f64, y: f64) -> f64 {
        if y == 0.0 || x.is_infinite() || x.is_nan() || y.is_nan() {
            return f64::NAN;
        }
        let y = y.abs();
        let (yfr, yexp) = frexp(y);
        let mut r = if x < 0.0 { -x } else { x };
        while r >= y {
            let (rfr, mut rexp) = frexp(r);
            if rfr < yfr {
                rexp -= 1;
            }
            r -= ldexp(y, rexp - yexp);
        }
        if x < 0.0 {
            -r
        } else {
            r
        }
    }

    /// The same double, bit for bit, or both NaN: how the gomath tests
    /// compare with Go's answers.
    pub(super) fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn rust_remainder_is_go_mod() {
        let specials = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::from_bits(1),
            -f64::from_bits(3),
            f64::MIN_POSITIVE,
            f64::MAX,
            -f64::MAX,
            1.0,
            -1.0,
            7.3,
            -7.3,
            14.6,
            -14.6,
            0.7,
            1e15 + 0.5,
            -1e300,
            1e-300,
            3.0,
            2.0f64.powi(60),
        ];
        for &x in &specials {
            for &y in &specials {
                assert!(same(x % y, go_mod(x, y)), "{x:e} % {y:e}: {} vs {}", x % y, go_mod(x, y));
            }
        }
        // And a deterministic spread of magnitudes and signs.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state);
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Exponents within 2^±80 of each other, so the loop stays short.
            let y = f64::from_bits(
                (state & !(0x7ff << 52))
                    | ((((x.to_bits() >> 52) & 0x7ff) + (state % 160)).wrapping_sub(80) & 0x7ff) << 52,
            );
            assert!(same(x % y, go_mod(x, y)), "{x:e} % {y:e}");
        }
    }

    /// Inputs with Prometheus 2.42's answers on a CPU with FMA and with
    /// `GODEBUG=cpu.fma=off` (all as bits), where the two variants of Go's
    /// `Exp` differ in the last bit; the functions built on `Exp` inherit that.
    type Row = (u64, u64, u64);
    const EXP: [Row; 24] = [
        (0xc03f_0000_0000_0000, 0x3d23_6121_e24d_3bb9, 0x3d23_6121_e24d_3bba), // -31.0
        (0x4046_0000_0000_0000, 0x43e6_4b41_c6d3_7833, 0x43e6_4b41_c6d3_7832), // 44.0
        (0x3fef_ffff_ffff_fffc, 0x4005_bf0a_8b14_5767, 0x4005_bf0a_8b14_5766), // 0.9999999999999996
        (0x3ff0_0000_0000_002d, 0x4005_bf0a_8b14_57a7, 0x4005_bf0a_8b14_57a6), // 1.00000000000001
        (0xbfef_ffff_faa1_9c47, 0x3fd7_8b56_3a20_275d, 0x3fd7_8b56_3a20_275c), // -0.99999999
        (0xbff0_0000_0000_afec, 0x3fd7_8b56_362b_ec59, 0x3fd7_8b56_362b_ec58), // -1.00000000001
        (0xc039_21fb_5444_2d16, 0x3daa_be59_0850_111f, 0x3daa_be59_0850_111e), // -25.132741228718338
        (0xc033_a28c_59d5_433c, 0x3e29_8177_1681_67b5, 0x3e29_8177_1681_67b6), // -19.63495408493621
        (0xc019_21fb_5444_2d1a, 0x3f5e_989f_5d6d_ff4f, 0x3f5e_989f_5d6d_ff4e), // -6.283185307179588
        (0x401f_6a7a_2955_385f, 0x40a4_1ff0_e4ee_16e7, 0x40a4_1ff0_e4ee_16e8), // 7.853981633974484
        (0x4033_a28c_59d5_433c, 0x41b4_12ec_cdef_6291, 0x41b4_12ec_cdef_6292), // 19.63495408493621
        (0x4035_fdbb_e9bb_a776, 0x41ea_796c_281b_1b11, 0x41ea_796c_281b_1b10), // 21.991148575128555
        (0xc086_1ea0_a1be_289c, 0x001c_3c3e_1373_9b49, 0x001c_3c3e_1373_9b4a), // -707.8284334999221
        (0x4086_2b70_a3d7_0a3d, 0x7fe6_7d2a_40c9_5257, 0x7fe6_7d2a_40c9_5256), // 709.43
        (0x4086_14a4_beb5_5226, 0x7fa4_d2a9_ee4c_d165, 0x7fa4_d2a9_ee4c_d166), // 706.5804418721862
        (0x4085_fa3a_0c36_6028, 0x7f58_8663_9018_ad89, 0x7f58_8663_9018_ad8a), // 703.2783436058135
        (0x4046_01eb_851e_b852, 0x43e6_a182_d656_090d, 0x43e6_a182_d656_090c), // 44.015
        (0x3fcf_9f5a_acda_3b40, 0x3ff4_7be1_0642_c4f3, 0x3ff4_7be1_0642_c4f4), // 0.24705060424863667
        (0xbfe8_7fad_77ff_cc92, 0x3fdd_c391_4451_7583, 0x3fdd_c391_4451_7582), // -0.7655856460318253
        (0xbfb7_6983_cb77_3980, 0x3fed_340c_3fcd_ea87, 0x3fed_340c_3fcd_ea88), // -0.09145377843308289
        (0xc003_adbf_e02b_42a8, 0x3fb5_dff7_f244_614d, 0x3fb5_dff7_f244_614c), // -2.4598386300279635
        (0x400e_b46e_0a78_5698, 0x4047_37f5_a2c3_b5c9, 0x4047_37f5_a2c3_b5ca), // 3.8381005113577196
        (0x401c_b82c_e768_4ae8, 0x4094_82e4_3b2e_ee4b, 0x4094_82e4_3b2e_ee4a), // 7.179858794918552
        (0xbfe3_636b_8d63_5b60, 0x3fe1_757a_988a_375d, 0x3fe1_757a_988a_375e), // -0.6058862458693106
    ];
    const SINH: [Row; 6] = [
        (0xc04e_0000_0000_0000, 0xc547_9dbc_9dc5_3c67, 0xc547_9dbc_9dc5_3c66), // -60.0
        (0xc04b_8000_0000_0000, 0xc4d4_5e30_76d6_1699, 0xc4d4_5e30_76d6_1698), // -55.0
        (0xc02f_6a7a_2955_385f, 0xc149_5019_fff5_33eb, 0xc149_5019_fff5_33ea), // -15.707963267948967
        (0xc02d_d85a_7410_f58d, 0xc137_150c_fdcc_fe1f, 0xc137_150c_fdcc_fe1e), // -14.922565104551518
        (0x4022_d97c_7f33_21d2, 0x40b8_33d2_e8b9_b740, 0x40b8_33d2_e8b9_b73f), // 9.42477796076938
        (0x401c_72e9_e5e7_1ef8, 0x4083_2b78_a538_0ab3, 0x4083_2b78_a538_0ab4), // 7.112220375281815
    ];
    const COSH: [Row; 6] = [
        (0xc009_21fb_5444_2d18, 0x4027_2f14_7fee_4000, 0x4027_2f14_7fee_4001), // -3.141592653589793
        (0x4021_475c_c9ee_deff, 0x40a6_11d3_2b3c_540b, 0x40a6_11d3_2b3c_540a), // 8.639379797371928
        (0x4022_d97c_7f33_21d4, 0x40b8_33d2_ee03_a122, 0x40b8_33d2_ee03_a121), // 9.424777960769383
        (0x402d_d85a_7410_f58d, 0x4137_150c_fdcd_03ab, 0x4137_150c_fdcd_03aa), // 14.922565104551518
        (0x407f_781e_a07e_a388, 0x6d45_39c7_c1c3_0605, 0x6d45_39c7_c1c3_0606), // 503.5074772784069
        (0x4074_78df_71f8_a068, 0x5d67_9c2a_d027_0739, 0x5d67_9c2a_d027_0738), // 327.55455205077897
    ];
    const POW_037: [Row; 8] = [
        (0x1f10_0000_0000_0000, 0x33c4_d24b_d660_9fd9, 0x33c4_d24b_d660_9fd8), // 4.552209918945439e-159
        (0x402c_463a_becc_b2bd, 0x4005_5120_6df4_8981, 0x4005_5120_6df4_8982), // 14.137166941154073
        (0x4032_106c_a491_0069, 0x4007_5733_6a7a_1f93, 0x4007_5733_6a7a_1f92), // 18.06415775814131
        (0x4032_d97c_7f33_21d2, 0x4007_b609_93dd_072d, 0x4007_b609_93dd_072c), // 18.84955592153876
        (0x527c_5eee_35ba_ce9e, 0x46cc_5bf3_c627_8ce9, 0x46cc_5bf3_c627_8ce8), // 2.2575150660842939e+89
        (0x4086_131e_7484_e925, 0x4026_a7d8_67d4_03a9, 0x4026_a7d8_67d4_03a8), // 706.3898706802034
        (0x3fe5_4bda_d71c_3ff8, 0x3feb_863b_daa8_de05, 0x3feb_863b_daa8_de06), // 0.6655096246122403
        (0x3fe1_4c8d_be71_ef50, 0x3fe9_7c94_86d4_d5b5, 0x3fe9_7c94_86d4_d5b6), // 0.5405949325208699
    ];
    const POW_2X: [Row; 6] = [
        (0xc039_eb0b_2ee6_4e80, 0x3e50_ef22_19a5_af79, 0x3e50_ef22_19a5_af78), // -25.91813939211579
        (0xbff9_21fb_5444_2d1a, 0x3fd5_8b39_40af_ed14, 0x3fd5_8b39_40af_ed15), // -1.570796326794897
        (0x403c_463a_becc_b2b9, 0x41b3_59d9_1561_eb7f, 0x41b3_59d9_1561_eb80), // 28.27433388230813
        (0xc083_5411_57a5_f686, 0x1946_7eb7_e455_f8fa, 0x1946_7eb7_e455_f8f9), // -618.5084679571016
        (0x403d_60c4_0695_d900, 0x41c4_cae1_147b_c9fd, 0x41c4_cae1_147b_c9fc), // 29.377991115173245
        (0x4021_428e_34ca_37a6, 0x4078_c2c9_9c03_8c8d, 0x4078_c2c9_9c03_8c8c), // 8.629991197285403
    ];

    /// Checks `f` on each row, with Go's FMA path when the CPU has it and
    /// always with the other.
    fn check(rows: &[Row], f: impl Fn(f64) -> f64) {
        let fused = super::exp_log::use_fma();
        for &(x, with_fma, without) in rows {
            let x = f64::from_bits(x);
            if fused {
                assert_eq!(f(x).to_bits(), with_fma, "{x:e} with FMA");
            }
            super::exp_log::tests::UNFUSED.with(|u| u.set(true));
            let got = f(x).to_bits();
            super::exp_log::tests::UNFUSED.with(|u| u.set(false));
            assert_eq!(got, without, "{x:e} without FMA");
        }
    }

    #[test]
    fn both_variants_of_exp_end_in_the_go_digits() {
        check(&EXP, super::exp);
        check(&SINH, super::sinh);
        check(&COSH, super::cosh);
        check(&POW_037, |x| super::pow(x, 0.37));
        check(&POW_2X, |x| super::pow(2.0, x));
    }
}
