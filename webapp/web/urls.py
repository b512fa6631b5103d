from django.urls import path

from web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("status", views.status_page, name="status"),
    path("status.json", views.status_page, name="status-json"),
    path("healthz", views.healthz),
    path("readyz", views.readyz),
]
