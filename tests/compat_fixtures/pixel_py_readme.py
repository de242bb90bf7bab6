from ez_pixel import init_pixel, capture_exception, report

init_pixel(project_key="pk_live_...")

# Anything uncaught after this point is automatically reported.

try:
    risky()
except Exception as e:
    capture_exception(e)

report("user clicked the broken button")
