"""Ctrl-C cancels a solve cleanly: KeyboardInterrupt, and the solver
still works afterwards; the GIL is released while it runs."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import cubie


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
def test_ctrl_c_cancels_a_solve(lorenz):
    solver = cubie.Solver(lorenz, method="classical-rk4", dt=1e-4, duration=100.0, threads=1)
    main = threading.get_ident()
    timer = threading.Timer(0.5, lambda: signal.pthread_kill(main, signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        solver.solve(parameters={"rho": np.linspace(0, 28, 4096)})
    elapsed = time.monotonic() - start
    timer.cancel()
    # The whole solve would take minutes; it stopped soon after the signal.
    assert elapsed < 30, elapsed
    small = cubie.Solver(lorenz, method="tsit5").solve(parameters={"rho": [10.0]})
    assert small.success.all()


def test_other_threads_run_during_a_solve(lorenz):
    solver = cubie.Solver(lorenz, method="classical-rk4", dt=1e-4, duration=5.0, threads=1)
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    worker = threading.Thread(target=count)
    worker.start()
    try:
        solver.solve(parameters={"rho": np.linspace(0, 28, 256)})
    finally:
        stop.set()
        worker.join()
    assert len(ticks) > 20, "the GIL was held through the solve"
