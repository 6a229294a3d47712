"""Running a module under test in a child process the grader does not trust.

``sandbox``: the grader's side of one child (start-up, time and CPU limits, kills,
clean-up), with ``limits`` (what a child may use), ``confinement`` (which level runs,
what it leaves open), ``launcher`` (the launcher's files, command line, environment),
``processes`` (uid slots, /proc accounting, kills, the shared CPU, System V IPC),
``files`` (the submission's copy, disk use, removal), ``output`` (printed output,
capped) and ``watchdog`` (memory and disk limits, between requests too). ``bwrap``: the
bubblewrap command line; ``allowlist``: what the child may read (the same list for both levels,
and mirrors of what an unprivileged uid cannot reach); ``confine``: the child's first
code (limits, uid drop, Landlock, seccomp, a subreaper in the fallback) and the import
hook refusing the reference packages; ``seccomp``: the system-call filter.
``protocol``: the wire format (JSON headers, arrays as raw bytes; nothing read back
can execute). ``child``: the executor, performing the operations the grader names on
the submission's objects. ``client``: the grader's side of an executor, in a sandbox or
in this process.
"""
