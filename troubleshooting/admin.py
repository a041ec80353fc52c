from django.contrib import admin

from .models import ApiToken, Article, Symptom


class SymptomInline(admin.TabularInline):
    model = Symptom
    fields = ("position", "seen_in", "text", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-only: articles live in files under version control (see README, "Adding an article")."""

    list_display = ("title", "slug", "category", "severity", "updated")
    list_filter = ("category", "severity")
    search_fields = ("slug", "title", "summary")
    inlines = [SymptomInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff can see and revoke (delete) tokens; keys are only ever shown to their owner at creation."""

    list_display = ("prefix", "user", "name", "created_at", "last_used_at")
    list_filter = ("user",)
    fields = ("prefix", "user", "name", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
