from fikafollow.commands import main

raise SystemExit(main())
