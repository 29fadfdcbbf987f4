"""Training and evaluating the TaggerNet head (``photo-tagger train`` / ``photo-tagger eval``).

Data flow, one module per step::

    loaders / mirflickr   dataset layouts -> LabelledImages (dataset); captions -> tags via lemmas, captions, concepts
    features              images -> backbone features of several views, cached per dataset content and backbone
    splits                train / validation / test by a hash of each photo's path
    head                  MLP on features: sigmoid, BCE (or asymmetric loss), Adam 1e-3, early stop on val top-k
    detections, sources   the detector's findings (cached) and which hierarchy / detector tags name which vocabulary tag
    calibration, fusion   Platt curves per source and tag, the merge rule and per-tag thresholds, on validation photos
    evaluate, metrics     mAP, top-k, P/R/F1, each part alone and the ablation, on test photos
    trainer, card         the whole run, and the head with its model card on disk

The engine side, which needs none of this, is :mod:`photo_tagger.pipeline.taggernet`. torch is imported only by
:mod:`~photo_tagger.training.head`, inside the functions that train.
"""
