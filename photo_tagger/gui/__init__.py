"""The desktop app (PySide6): the only package that imports Qt.

``app`` starts it (theme, remembered settings, one window per library); ``main_window`` wires the parts:

- ``sidebar`` (folders, counts, status), ``search_bar``, ``failed`` (photos that could not be tagged);
- the grid: ``grid_model`` (search results page by page) + ``grid_view`` (tiles), thumbnails from ``thumbs``;
- ``detail``: the photo (``photo_view``, boxes from ``detections``) and its tags (``tag_list``);
- ``decisions`` (accept / reject / add as pool tasks), ``review`` mode, ``menus`` and shortcuts;
- ``progress`` in the status bar; ``screenshot`` for ``photo-tagger gui --screenshot``.

Work leaves the GUI thread through ``tasks`` (thread pools per latency class, results posted back to the GUI
thread) and ``background`` (the tagging worker and the folder watcher, their callbacks bridged into Qt signals).
``images`` holds the file-reading code those pools run; ``theme`` and ``icons`` the look.
"""
