from photo_tagger.cli import main

raise SystemExit(main())
