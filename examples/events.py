"""Event-camera digits: DVS events, a spiking CNN on them, and its energy against a dense CNN.

    python examples/events.py [--out out/events] [--images 600] [--epochs 10]

Makes scikit-learn's digits into event streams (three saccades seen by the DVS model),
trains a small CNN on the accumulated event frames (numpy), converts it to a spiking CNN fed
the events as spikes (1 ms steps), and prints both accuracies and the energy per inference
of the SNN on Loihi and the RRAM crossbar against the dense CNN on a CPU, a GPU and the
45 nm model. Writes events.png (event frame per saccade and raster of one sample).
"""

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neurosim as ns  # noqa: E402
from neurosim import events as ev  # noqa: E402
from neurosim.events import cnn  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/events")
    ap.add_argument("--images", type=int, default=600, help="digits used (train + test)")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    data = ev.make_saccade_digits(n=args.images)            # DVS defaults: C = 0.2, 1 ms
    sample = data.test[0]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4),
                             gridspec_kw=dict(width_ratios=[1, 1, 1, 2]))
    for s in range(3):
        ev.event_frame(sample, data.test.shape, ax=axes[s], t_range=(0.03 * s, 0.03 * (s + 1)),
                       title=f"saccade {s + 1} (digit {data.test.labels[0]})")
    ev.raster(sample, data.test.shape, ax=axes[3])
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "events.png"), dpi=100)

    frames = data.train.frames()                           # ON/OFF counts per pixel
    model = cnn.train_cnn(cnn.build_cnn(channels=(4, 8)), frames, data.train.labels,
                          epochs=args.epochs)
    snn = cnn.convert_cnn(model, frames)
    res = snn.evaluate(data.test, dt=1e-3)                  # 90 steps of 1 ms
    print(f"dense CNN accuracy {model.accuracy(data.test.frames(), data.test.labels):.3f}, "
          f"spiking CNN {res.accuracy:.3f} ({len(data.test)} test samples, "
          f"{res.input_events / len(data.test):.0f} events each)")
    snn_e = ns.energy.estimate(res.counts, "loihi,crossbar_rram", inferences=len(data.test))
    for hw in ("cpu", "gpu", "digital45"):
        dense = ns.energy.dense_ann(cnn.dense_layers(model), hw).per_inference
        print(f"dense CNN on {hw}: {ns.energy.fmt_energy(dense)} per inference; SNN "
              + ", ".join(f"{r.hardware} {ns.energy.fmt_energy(r.per_inference)} "
                          f"({dense / r.per_inference:.3g}x)" for r in snn_e.reports))
    print("figure:", os.path.join(args.out, "events.png"))


if __name__ == "__main__":
    main()
