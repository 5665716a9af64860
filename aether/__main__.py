from aether.cli import main

raise SystemExit(main())
