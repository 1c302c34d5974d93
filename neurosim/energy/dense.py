"""Dense ANN baseline: energy of one inference of a feed-forward ANN from its layer shapes.

Charged per layer:

- on per-op profiles (cpu, gpu, arm; KerasSpiking's convention): one op per connection
  (MAC) and one per output neuron (activation);
- on the digital 45 nm model: MAC = mult + add at the chosen precision, the layer's weights
  fetched once per inference from DRAM (or SRAM when they fit on chip), every input
  activation read once and every output written once in SRAM (perfect reuse in registers: a
  lower bound on activation traffic).
"""

import math
from dataclasses import dataclass

from ..hardware import HardwareProfileError
from ..validation import check_choice, check_int, fail
from .estimate import COMMON_ASSUMPTIONS, EnergyReport, Item, fmt_energy, precision_bits
from .profiles import load_energy_profile

__all__ = ["Dense", "Conv2D", "Pool2D", "dense_ann", "layer_chain"]


@dataclass(frozen=True)
class Dense:
    """Fully connected layer ``n_in -> n_out``."""
    n_in: int
    n_out: int
    bias: bool = True

    def __post_init__(self):
        check_int("n_in", self.n_in, 1)
        check_int("n_out", self.n_out, 1)

    @property
    def macs(self):
        return self.n_in * self.n_out

    @property
    def weights(self):
        return self.n_in * self.n_out + (self.n_out if self.bias else 0)

    @property
    def inputs(self):
        return self.n_in

    @property
    def outputs(self):
        return self.n_out

    def __str__(self):
        return f"Dense {self.n_in}->{self.n_out}"


class _Spatial:
    """What a layer on an ``in_shape = (height, width, channels)`` input shares: the check
    of that shape and its input and output sizes (``out_shape`` from the layer)."""

    def _check_in_shape(self):
        if len(self.in_shape) != 3:
            fail("in_shape", "(height, width, channels)", self.in_shape)
        for i, name in enumerate(("height", "width", "channels")):
            check_int(f"in_shape {name}", self.in_shape[i], 1)

    @property
    def inputs(self):
        return math.prod(self.in_shape)

    @property
    def outputs(self):
        return math.prod(self.out_shape)


@dataclass(frozen=True)
class Conv2D(_Spatial):
    """2-D convolution of an ``in_shape = (height, width, channels)`` input."""
    in_shape: tuple
    filters: int
    kernel: tuple = (3, 3)
    stride: int = 1
    padding: str = "same"
    bias: bool = True

    def __post_init__(self):
        self._check_in_shape()
        check_int("filters", self.filters, 1)
        k = (self.kernel, self.kernel) if isinstance(self.kernel, int) else tuple(self.kernel)
        if len(k) != 2:
            fail("kernel", "an int or (kh, kw)", self.kernel)
        object.__setattr__(self, "kernel", k)
        check_int("stride", self.stride, 1)
        check_choice("padding", self.padding, ("same", "valid"))
        if self.out_shape[0] < 1 or self.out_shape[1] < 1:
            fail("kernel", f"no larger than the input {self.in_shape[:2]} with 'valid' padding",
                 k)

    @property
    def out_shape(self):
        h, w, _ = self.in_shape
        kh, kw = self.kernel
        if self.padding == "same":
            return (math.ceil(h / self.stride), math.ceil(w / self.stride), self.filters)
        return ((h - kh) // self.stride + 1, (w - kw) // self.stride + 1, self.filters)

    @property
    def macs(self):
        ho, wo, f = self.out_shape
        return ho * wo * f * self.kernel[0] * self.kernel[1] * self.in_shape[2]

    @property
    def weights(self):
        return (self.kernel[0] * self.kernel[1] * self.in_shape[2] * self.filters
                + (self.filters if self.bias else 0))

    def __str__(self):
        return (f"Conv2D {self.in_shape}->{self.out_shape} "
                f"{self.kernel[0]}x{self.kernel[1]}/{self.stride}")


@dataclass(frozen=True)
class Pool2D(_Spatial):
    """Average (or sum) pooling of an ``in_shape = (height, width, channels)`` input over
    ``kernel`` x ``kernel`` windows with stride ``kernel`` (no padding). Each window tap is
    charged as one MAC (an add, and the scale folded in): the same count as the synapses of
    the pooling layer in an SNN; it has no weights to fetch."""
    in_shape: tuple
    kernel: int = 2

    def __post_init__(self):
        self._check_in_shape()
        check_int("kernel", self.kernel, 1, min(self.in_shape[:2]))

    @property
    def out_shape(self):
        h, w, c = self.in_shape
        return (h // self.kernel, w // self.kernel, c)

    @property
    def macs(self):
        return self.outputs * self.kernel * self.kernel

    @property
    def weights(self):
        return 0

    def __str__(self):
        return f"Pool2D {self.in_shape}->{self.out_shape} {self.kernel}x{self.kernel}"


def layer_chain(sizes):
    """``[64, 100, 10]`` -> ``[Dense(64, 100), Dense(100, 10)]``."""
    sizes = [*sizes]
    if len(sizes) < 2:
        fail("layers", "at least two sizes (input and output)", sizes)
    return [Dense(a, b) for a, b in zip(sizes, sizes[1:])]


def _layers(layers):
    layers = [*layers]
    if layers and all(isinstance(x, int) and not isinstance(x, bool) for x in layers):
        return layer_chain(layers)
    for i, layer in enumerate(layers):
        if not isinstance(layer, (Dense, Conv2D, Pool2D)):
            fail(f"layers[{i}]", "a Dense or Conv2D (or a Pool2D, or give a list of layer "
                 "sizes)", type(layer).__name__)
    if not layers:
        fail("layers", "a non-empty list", layers)
    return layers


def dense_ann(layers, hardware="cpu", precision="fp32", weight_memory="dram", batch=1,
              path=None):
    """Energy of one inference of a dense ANN (an :class:`EnergyReport`, items per layer).

    Parameters
    ----------
    layers : list of Dense/Conv2D/Pool2D, or list of ints (sizes of a dense chain)
    hardware : str
        A profile with ``execution = "dense"`` (cpu, gpu, arm) or ``"digital-model"``
        (digital45).
    precision : {"fp32", "fp16", "int32", "int8"}
        Arithmetic and word size of the digital model.
    weight_memory : {"dram", "sram"}
        Where the digital model fetches weights from, once per batch.
    batch : int
        Inferences sharing one weight fetch (digital model).
    """
    layers = _layers(layers)
    bits = precision_bits(precision)
    check_choice("weight_memory", weight_memory, ("dram", "sram"))
    batch = check_int("batch", batch, 1)
    prof = load_energy_profile(hardware, path)
    prof.require_figures()
    items = []
    if prof.execution == "digital-model":
        add, mult = prof.arithmetic(precision)
        sram = bits / 64 * prof.energy_of("sram_read_64b")
        wmem = bits / 64 * prof.energy_of(f"{weight_memory}_read_64b")
        for k, layer in enumerate(layers):
            name = f"layer {k}: {layer}"
            items += [Item(name, "layer", f"MAC ({precision} mult + add)", layer.macs,
                           mult + add, "published"),
                      Item(name, "layer", f"weight fetch ({weight_memory}, {bits} b)",
                           layer.weights / batch, wmem, "published"),
                      Item(name, "layer", f"activation read + write (SRAM, {bits} b)",
                           layer.inputs + layer.outputs, sram, "published")]
        notes = [f"MAC = {precision} mult + add = {fmt_energy(mult + add)}; weights fetched "
                 f"once per {'inference' if batch == 1 else f'batch of {batch}'} from "
                 f"{weight_memory.upper()} ({fmt_energy(wmem)} per {bits}-bit word); "
                 f"activations read and written once in SRAM ({fmt_energy(sram)} per word). "
                 f"Figures: Horowitz 2014 ({prof.file}).",
                 "Activation traffic assumes perfect reuse in registers (a lower bound); "
                 "the nonlinearity (ReLU) is not charged."]
    elif prof.execution == "dense" or prof.op("mac"):
        mac, act = prof.op("mac"), prof.op("activation")
        if not mac:
            raise HardwareProfileError(f"{prof.file}: missing field ops.mac")
        for k, layer in enumerate(layers):
            name = f"layer {k}: {layer}"
            items.append(Item(name, "layer", mac[0].name, layer.macs, mac[0].value,
                              mac[0].status))
            for op in act:
                items.append(Item(name, "layer", op.name, layer.outputs, op.value, op.status))
        notes = [f"One op per connection (MAC, {fmt_energy(mac[0].value)}; {mac[0].source})"
                 + (f" and one per output neuron ({fmt_energy(act[0].value)})" if act else "")
                 + ": KerasSpiking's convention for non-spiking devices."]
    else:
        fail("hardware", "a profile for dense networks (execution 'dense' or 'digital-model': "
             "cpu, gpu, arm, digital45)", hardware)
    return EnergyReport(hardware=prof.key, name=prof.name, execution=prof.execution,
                        inferences=1, items=items,
                        assumptions=list(COMMON_ASSUMPTIONS) + notes + [
                            f"Network: {', '.join(str(x) for x in layers)}; "
                            f"{sum(x.macs for x in layers):,} MACs per inference."])
