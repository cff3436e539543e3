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
    # Long enough on any machine for a thread that sleeps 1 ms between
    # ticks to tick many times, were it let run.
    solver = cubie.Solver(lorenz, method="classical-rk4", dt=1e-4, duration=50.0, threads=1)
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    worker = threading.Thread(target=count)
    worker.start()
    try:
        start = time.monotonic()
        solver.solve(parameters={"rho": np.linspace(0, 28, 256)})
        end = time.monotonic()
    finally:
        stop.set()
        worker.join()
    during = [t for t in ticks if start < t < end]
    # Held, the GIL would allow a tick or two; released, one every few
    # milliseconds however loaded the machine.
    assert len(during) > 20 and len(during) > (end - start) / 0.01, (
        f"the GIL was held through the solve: {len(during)} ticks in {end - start:.3f} s"
    )
