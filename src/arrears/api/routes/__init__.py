"""One router per resource; `arrears.api.app` mounts them under `/api/v1`."""
