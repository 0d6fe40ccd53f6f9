//! Behaviour tests of chart-repo against real servers on loopback.
