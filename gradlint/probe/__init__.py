"""`gradlint probe`: one real forward/backward pass that confirms or refutes static findings.

The parent process (command, runner, join, report, plot) never imports torch: the
user's model is built and measured in a child process (`gradlint.probe.child`) with a
time limit, so a model that hangs, crashes or exhausts memory cannot take the
command down with it.

Exit codes: 0 every verdict healthy; 1 a verdict flags a problem; 2 usage or
configuration error; 3 the user's code failed (import, build, forward, backward,
out of memory); 124 the child ran past --timeout (as coreutils' timeout does); 128+N
SIGINT, SIGTERM or SIGHUP (signal N) stopped the probe and the child's processes.
"""

EXIT_HEALTHY = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_USER_CODE = 3
EXIT_TIMEOUT = 124
