# %% [markdown]
# # A Lorenz sweep with cubie
#
# 4,096 runs of the Lorenz system, rho swept over [0, 28], integrated with
# tsit5 (40 time units to settle, then 10 saved every 0.01); then the
# long-time behaviour against rho and a few trajectories. Needs `pip install ./crates/cubie-py matplotlib`.
# Run it as a script (`python examples/sweep_plot.py`, which writes
# `lorenz_sweep.png`) or cell by cell in an editor that knows `# %%`.

# %%
import pathlib

import matplotlib

matplotlib.use("Agg")  # files, no window; drop this line in a notebook
import matplotlib.pyplot as plt
import numpy as np

import cubie

here = pathlib.Path(__file__).resolve().parent
lorenz = cubie.load_model(here / "lorenz.toml")
print(lorenz)

# %% The sweep: one run per value of rho.
rho = np.linspace(0.0, 28.0, 4096)
result = cubie.solve_ivp(
    lorenz,
    parameters={"rho": rho},
    method="tsit5",
    duration=10.0,
    settling_time=40.0,
    save_every=0.01,
    atol=1e-8,
    rtol=1e-8,
    output_types=["state", "time", "max", "min"],
    summarise_every=10.0,
    progress=True,
)
print(result)
print(f"{result.success.sum()} of {result.n_runs} runs succeeded")

# %% The largest and smallest z of each run after settling: the runs
# spiral into a fixed point below rho ~ 24.7 (the band closes as they
# settle) and stay on the chaotic attractor above it.
z = result.summary_labels.index("z")
z_max = result.summaries["max"][:, 0, z]
z_min = result.summaries["min"][:, 0, z]

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
ax1.fill_between(rho, z_min, z_max, color="tab:blue", alpha=0.4, lw=0)
ax1.plot(rho, z_max, lw=0.8, color="tab:blue")
ax1.set_xlabel("rho")
ax1.set_ylabel("z after settling (min to max)")
ax1.set_title("Lorenz: 4,096 runs")

# %% A few trajectories in the (x, z) plane, from the xarray view.
ds = result.to_xarray()
for value in (10.0, 20.0, 24.0, 28.0):
    run = int(np.abs(rho - value).argmin())
    path = ds["state"].sel(run=run)
    ax2.plot(path.sel(variable="x"), path.sel(variable="z"), lw=0.6, label=f"rho = {rho[run]:.1f}")
ax2.set_xlabel("x")
ax2.set_ylabel("z")
ax2.legend(loc="upper left", fontsize=8)
fig.tight_layout()
out = pathlib.Path("lorenz_sweep.png")
fig.savefig(out, dpi=120)
print(f"wrote {out}")
