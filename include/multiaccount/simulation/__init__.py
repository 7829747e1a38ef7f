"""Accelerated fleet simulation (issue 14): the realtime service, lifecycle rules and procedures run
together over simulated time on simulated terminals, plus the demo's month-of-history generator."""

from multiaccount.simulation.driver import FleetSimulation, SimulationOptions, simulate, trading_window
from multiaccount.simulation.report import SimulationReport
from multiaccount.simulation.signals import SignalGenerator

__all__ = ["FleetSimulation", "SignalGenerator", "SimulationOptions", "SimulationReport", "simulate",
           "trading_window"]
