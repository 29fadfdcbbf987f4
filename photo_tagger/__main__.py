"""``python -m photo_tagger``. Guarded: a re-tag's scoring processes import this module again when they start."""

if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # the PyInstaller app's scoring processes start through this entry point
    from photo_tagger.cli import main

    raise SystemExit(main())
