//! Go's `container/heap` and the insertion sort of Go's `sort.Sort` for short
//! slices, reproduced so that `topk`, `bottomk`, `sort` and `sort_desc` order
//! equal values the way Prometheus does.

/// Go's `heap.Push` with `less` as the heap's `Less`.
pub(crate) fn heap_push<T>(h: &mut Vec<T>, x: T, less: impl Fn(&T, &T) -> bool) {
    h.push(x);
    let mut j = h.len() - 1;
    while j > 0 {
        let i = (j - 1) / 2;
        if !less(&h[j], &h[i]) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

/// Go's `heap.Pop`: removes and returns the least element.
pub(crate) fn heap_pop<T>(h: &mut Vec<T>, less: impl Fn(&T, &T) -> bool) -> Option<T> {
    let n = h.len().checked_sub(1)?;
    h.swap(0, n);
    let mut i = 0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        if j1 + 1 < n && less(&h[j1 + 1], &h[j1]) {
            j = j1 + 1;
        }
        if !less(&h[j], &h[i]) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    h.pop()
}

/// The insertion sort Go's `sort.Sort` uses for up to 12 elements (stable);
/// longer slices are sorted stably too, where Go's pdqsort may order equal
/// elements differently.
pub(crate) fn insertion_sort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    if v.len() > 12 {
        v.sort_by(|a, b| {
            if less(a, b) {
                std::cmp::Ordering::Less
            } else if less(b, a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        return;
    }
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_keeps_the_least_on_top() {
        let mut h = Vec::new();
        for x in [5, 3, 8, 1, 9, 2] {
            heap_push(&mut h, x, |a, b| a < b);
        }
        let mut out = Vec::new();
        while let Some(x) = heap_pop(&mut h, |a, b| a < b) {
            out.push(x);
        }
        assert_eq!(out, vec![1, 2, 3, 5, 8, 9]);
    }

    #[test]
    fn insertion_sort_is_stable() {
        let mut v = vec![(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd')];
        insertion_sort(&mut v, |a, b| a.0 < b.0);
        assert_eq!(v, vec![(1, 'b'), (1, 'd'), (2, 'a'), (2, 'c')]);
    }
}
