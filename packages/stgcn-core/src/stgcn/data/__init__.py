"""The data layer: the built-in synthetic dataset, what a dataset says about itself
(:mod:`.facts`), clip sampling, collation, restricted pickle loading, the recipes, and
the input streams (joints, bones, motion: :mod:`.streams`).

It imports the plugin layer (records, settings) and the model layer (layouts), never the
training loop above it.
"""
