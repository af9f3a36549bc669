"""Kinetics-skeleton for stgcn: OpenPose skeletons of the Kinetics-400 videos.

The package is a plugin: installing it adds the ``kinetics`` dataset and the
``stgcn data convert kinetics`` command. This module stays free of torch and of
stgcn-core so that the converter's worker processes start quickly.
"""

__version__ = "0.1.0"
