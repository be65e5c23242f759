from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from kefu.core.ratelimit import login_allowed, login_failed, login_succeeded


def login_view(request):
    form = AuthenticationForm(request, data=request.POST or None)
    locked = False
    if request.method == "POST":
        username = request.POST.get("username", "")
        if not login_allowed(request, username):
            locked = True
        elif form.is_valid():
            login_succeeded(request, username)
            login(request, form.get_user())
            return redirect(request.GET.get("next") or "web:dashboard")
        else:
            login_failed(request, username)
    return TemplateResponse(request, "web/login.html", {"form": form, "locked": locked}, status=429 if locked else 200)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("web:login")


@login_required
def dashboard(request):
    return TemplateResponse(request, "web/dashboard.html", {})
