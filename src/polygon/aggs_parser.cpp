// Polygon aggregates wire format (to be written).
