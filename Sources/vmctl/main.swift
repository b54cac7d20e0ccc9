print("vmctl: under construction")
