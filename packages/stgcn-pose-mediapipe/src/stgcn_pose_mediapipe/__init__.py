"""MediaPipe Pose, Hands and Holistic as stgcn pose estimators (``--estimator mediapipe``,
``mediapipe-hands``, ``mediapipe-holistic``).

The plugin module (:mod:`stgcn_pose_mediapipe.plugin`) imports neither mediapipe nor
OpenCV: ``stgcn plugins`` loads it on every call. The model loads when a video is opened.
"""

__version__ = "0.1.0"
