"""The finance team's routes: policies and their versions, and portfolio simulations."""
