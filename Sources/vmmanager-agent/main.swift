// The vmmanager resource agent (issue 3): under construction.
print("vmmanager: under construction")
