"""cyclesim: the event-driven kernel and the component timing models."""

from cyclesim.clock import ClockDomain, Timebase
from cyclesim.energy import EnergyLedger
from cyclesim.kernel import Component, Resource, Simulator
from cyclesim.trace import TraceRecorder

__all__ = ["ClockDomain", "Timebase", "EnergyLedger", "Component", "Resource", "Simulator", "TraceRecorder"]
