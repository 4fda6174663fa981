// planner, pipeline, report (to be written).
