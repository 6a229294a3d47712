"""Running :func:`torch_ref.verify.grade.job.grade_one` over a class: ``-j`` worker
processes, each with its own CPU slot, and retries when a worker dies.

A worker that dies takes the submissions it held with it: each of them is graded once
more, alone in a fresh worker, so that a submission that kills its worker again loses
only its own row.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing

_WORKER: dict = {}


def _init_worker(slots) -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - the references need torch anyway
        pass
    _WORKER["slot"] = slots.get() if slots is not None else None


def _run(job, sub, options):
    return job(sub, options, _WORKER.get("slot"))


def grade_all(submissions, job, lost, options, jobs: int,
              on_done=lambda entry: None) -> dict:
    """``{name: entry}`` for every submission. job(sub, options, slot) -> entry runs in
    the workers; lost(sub, why) -> entry, here, for a submission whose worker died twice;
    on_done(entry) after each one (progress)."""
    entries: dict = {}
    if jobs == 1:
        _init_worker(None)
        for sub in submissions:
            entries[sub.name] = job(sub, options, None)
            on_done(entries[sub.name])
        return entries
    pending = _pool_round(list(submissions), job, options, jobs, entries, on_done)
    for sub, _ in pending:  # alone this time: a second death is its own
        again = _pool_round([sub], job, options, 1, entries, on_done)
        for failed, why in again:
            entries[failed.name] = lost(failed, f"the grader's worker process died while "
                                                f"grading it, twice ({why})")
            on_done(entries[failed.name])
    return entries


def _pool_round(submissions, job, options, jobs, entries, on_done) -> list:
    """Grade ``submissions`` in a pool of ``jobs`` workers; ``[(sub, why)]`` for those
    whose worker died."""
    context = multiprocessing.get_context("spawn")
    slots = context.Queue()
    for slot in range(jobs):
        slots.put(slot)
    died = []
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=min(jobs, len(submissions)), mp_context=context,
            initializer=_init_worker, initargs=(slots,)) as pool:
        futures = {pool.submit(_run, job, sub, options): sub for sub in submissions}
        for future in concurrent.futures.as_completed(futures):
            sub = futures[future]
            try:
                entries[sub.name] = future.result()
            except Exception as exc:  # noqa: BLE001 - the worker died
                died.append((sub, repr(exc)))
                continue
            on_done(entries[sub.name])
    return died
