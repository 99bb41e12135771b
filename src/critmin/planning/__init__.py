"""FORGE investment planning: project pipeline, expansion plans, independence timelines, burden sharing."""
