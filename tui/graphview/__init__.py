"""The Graph screen's logic without Textual: layout, the picture of boxes, the stepper."""
