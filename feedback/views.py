from django.http import HttpResponse


def survey(request, token):
    return HttpResponse("")
