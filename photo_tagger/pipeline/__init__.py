"""The tagging engine: images -> backbone -> tags; detector -> object tags; GloVe -> neighbour tags.

Nothing in this package imports Qt. torch and onnxruntime are imported by the modules that need them, so importing
``photo_tagger.pipeline.types`` stays cheap.
"""
