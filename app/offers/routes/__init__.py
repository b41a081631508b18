"""The calculation routes: negotiate and counter, explicit plans and compare, rates."""
