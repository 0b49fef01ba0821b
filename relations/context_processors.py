from django.http import HttpRequest

from relations.roles import is_director, is_staff_member


def roles(request: HttpRequest) -> dict:
    user = request.user
    return {"is_director": is_director(user), "is_staff_member": is_staff_member(user)}
