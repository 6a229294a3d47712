"""Running a module under test in a child process the grader does not trust.

``protocol``: the wire format (JSON headers, arrays as ``.npy`` bytes read with
``allow_pickle=False``; nothing read back can execute).  ``confine``: what the child
does to itself before it loads the submission (limits, an unprivileged user, file
system and signal confinement, blocked reference packages).  ``child``: the child's
loop, serving calls of the functional API.  ``sandbox``: the parent's side of one
child (time, CPU and output limits, kills, restarts).  ``remote``: an adapter and
functional API in the parent whose calls run in the child, and :func:`verify_isolated`.
"""
