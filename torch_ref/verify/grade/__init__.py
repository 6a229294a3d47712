"""``python -m torch_ref grade SUBMISSION... --api API -j N --out DIR``: grade a class.

Each submission (a ``.py`` file, a folder of one student's files, an archive of them;
a class folder stands for each of its entries) is staged alone in the grader's private
folder, named by the digest of its content, and checked the way ``verify --module``
checks it, in its own confined child process that sees only that copy. ``DIR`` gets::

    gradebook.csv            one row per submission: statuses, points, total, note
    summary.txt summary.png  what fails most, the commonest hints, what was not graded
    results.json             Gradescope's file, with --gradescope and one submission
    reports/NAME/            report.txt, report.json (results.json with --gradescope)

Nothing a student names can land outside ``reports/``. A rerun reuses a report only when
its digest (the staged files' paths and bytes, the API, seed, strictness, rubric,
limits, the report format and the grader's version) is the one of the submission now.

Modules:

- :mod:`~torch_ref.verify.grade.cli`: the command line, printing, exit statuses;
- :mod:`~torch_ref.verify.grade.pool`: worker processes, CPU slots, retries;
- :mod:`~torch_ref.verify.grade.job`: one submission: stage, digest, reuse or check, score;
- :mod:`~torch_ref.verify.grade.check`: the one call into ``verify``;
- :mod:`~torch_ref.verify.grade.submissions`: collect, stage, find the module, digest;
- :mod:`~torch_ref.verify.grade.archives`: bounded, streamed extraction;
- :mod:`~torch_ref.verify.grade.gradebook`: rubric, points, CSV, class summary, chart;
- :mod:`~torch_ref.verify.grade.reports`, :mod:`~torch_ref.verify.grade.gradescope`:
  one submission's report files.
"""
