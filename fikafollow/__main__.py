from fikafollow.cli import main

raise SystemExit(main())
