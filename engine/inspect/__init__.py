"""Looking inside a run: expressions, graphs and backward()'s events, gradient checks, inference."""
