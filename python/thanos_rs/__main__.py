from thanos_rs.cli import main

raise SystemExit(main())
