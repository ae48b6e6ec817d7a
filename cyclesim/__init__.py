"""cyclesim: the event-driven kernel and the component timing models."""

from archsim.cyclesim.clock import ClockDomain, Timebase
from archsim.cyclesim.energy import EnergyLedger
from archsim.cyclesim.kernel import Component, Resource, Simulator
from archsim.cyclesim.trace import TraceRecorder

__all__ = ["ClockDomain", "Timebase", "EnergyLedger", "Component", "Resource", "Simulator", "TraceRecorder"]
