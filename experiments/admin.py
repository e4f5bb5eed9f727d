"""Staff end a holdout here (who and when are recorded; an ended holdout stays ended),
and can look up who was mailed or held out. Both are records: nothing is edited."""

from django.contrib import admin

from .assign import end_holdout
from .models import Assignment, HoldoutEnd


@admin.register(HoldoutEnd)
class HoldoutEndAdmin(admin.ModelAdmin):
    list_display = ["__str__", "send", "campaign", "ended_at", "ended_by", "reason"]
    fields = ["send", "campaign", "reason"]
    readonly_fields = ["ended_at", "ended_by"]

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else [*self.fields, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else [*self.fields, *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = end_holdout(send=obj.send, campaign=obj.campaign, by=request.user, reason=obj.reason)
        obj.pk, obj.ended_at, obj.ended_by = saved.pk, saved.ended_at, saved.ended_by

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["customer", "send", "campaign", "season", "as_of", "held_out"]
    list_filter = ["send", "held_out", "campaign", "season"]
    list_select_related = ["customer__user", "campaign"]
    search_fields = ["customer__user__email"]
    date_hierarchy = "as_of"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
