def employee(request):
    return {"employee": getattr(request, "employee", None)}
