"""Scoring many pose files with any model: local processes or a Dask cluster.

:func:`score_files` writes one predictions table per input file and a run
manifest ``manifest.csv`` in the output folder: input path and SHA-256, model
checksum, package version, per-file status, error, frame count and output
path. What a table holds depends on the model (see :func:`score_sequences`):

- a frame-level model (:class:`~skelbehave.pipeline.FrameLevelModel`): one
  row per frame and individual (``individual``, ``frame``, ``time``,
  ``label``, ``proba_<class>``; a model of several individuals, such as a
  dyad, labels them together: no ``individual`` column);
- a clip-level model (:class:`~skelbehave.pipeline.BehaviorModel`, or any
  saved model that labels whole sequences): one row per file and individual,
  or with ``window`` / ``stride`` one row per sliding segment (``input``,
  ``individual``, ``start_frame``, ``stop_frame``, ``start_time``,
  ``stop_time``, ``label``, ``proba_<class>``).

Outputs are written atomically (temporary name, then rename); a second run
skips files already done with the same model and input, so a killed run
resumes where it stopped. Work runs through
:func:`skelbehave._util.parallel.run_batch`: in this process, ``jobs`` local
processes, or a Dask cluster (``scheduler`` = address or
``dask.distributed.Client``), with a bounded number of files in flight so
memory stays flat however many files there are. Each worker process loads
the model once (cached by path and checksum) and runs ``n_jobs`` threads.
"""

from .._util.fs import expand_inputs, file_sha256
from .files import score_files
from .live import LiveScorer
from .live_watch import watch
from .tables import is_frame_level, score_file, score_sequences

__all__ = ["expand_inputs", "file_sha256", "is_frame_level", "score_file", "score_files", "score_sequences"]
__all__ += ["LiveScorer", "watch"]
