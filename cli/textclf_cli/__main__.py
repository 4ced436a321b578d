from textclf_cli.main import main

raise SystemExit(main())
