from athena_pool.cli import main

raise SystemExit(main())
