from einsim.explore.cli import main

raise SystemExit(main())
