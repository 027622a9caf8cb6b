"""When has the caller started and finished a turn?"""
