"""The PDFs for their owner, and the public verification pages.

The PDFs: the citizen's own application, or one they represent its applicant on (another's or
a missing one is a 404, as every page of an application), in the reader's language.
Verification is open to anyone holding a document: by its code (the QR code's address) or by
uploading the file.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import PortalError
from services.views import application_with_access

from . import actions, selectors
from .forms import CodeForm, UploadForm


def _own(request: HttpRequest, reference: str):
    """The application, for its owner and its representatives (`services.permissions`)."""
    return application_with_access(request, reference)[0]


def _pdf(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _refused(request: HttpRequest, exc: PortalError, application) -> HttpResponse:
    return render(
        request,
        "receipts/refused.html",
        {"message": exc.message, "application": application},
        status=exc.status,
    )


@login_required
@require_http_methods(["GET"])
def receipt_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    application = _own(request, reference)
    language = selectors.language_for(request.user)
    try:
        _document, pdf = actions.receipt_issue(
            application=application, actor=request.user, language=language
        )
    except PortalError as exc:
        return _refused(request, exc, application)
    return _pdf(pdf, f"receipt-{application.reference}.pdf")


@login_required
@require_http_methods(["GET"])
def letter_pdf(request: HttpRequest, reference: str, case: str) -> HttpResponse:
    application = _own(request, reference)
    decided = selectors.decided_case_of(application, case)
    if decided is None:
        raise Http404
    language = selectors.language_for(request.user)
    try:
        _document, pdf = actions.letter_issue(case=decided, actor=request.user, language=language)
    except PortalError as exc:
        return _refused(request, exc, application)
    return _pdf(pdf, f"decision-{decided.reference}.pdf")


def _result(request: HttpRequest, document, *, method: str) -> HttpResponse:
    return render(
        request,
        "receipts/verify_result.html",
        {"summary": selectors.public_summary(document), "method": method},
    )


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Enter a code (sent on to its page) or upload a PDF (checked against its digest)."""
    code_form, upload_form = CodeForm(), UploadForm()
    status = 200
    if request.method == "POST" and "code" in request.POST:
        code_form = CodeForm(request.POST)
        if code_form.is_valid():
            return redirect("receipts:verify-code", code=code_form.cleaned_data["code"])
        status = 400
    elif request.method == "POST":
        upload_form = UploadForm(request.POST, request.FILES)
        if upload_form.is_valid():
            data = upload_form.cleaned_data["document"].read()
            try:
                document = actions.document_verify_file(data=data, actor=request.user)
            except PortalError as exc:
                return _not_genuine(request, exc)
            return _result(request, document, method="file")
        status = 400
    return render(
        request,
        "receipts/verify.html",
        {"code_form": code_form, "upload_form": upload_form},
        status=status,
    )


def _not_genuine(request: HttpRequest, exc: PortalError) -> HttpResponse:
    return render(
        request,
        "receipts/verify_refused.html",
        {"message": exc.message, "code_form": CodeForm(), "upload_form": UploadForm()},
        status=exc.status,
    )


@require_http_methods(["GET"])
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    try:
        document = actions.document_verify_code(code=code, actor=request.user)
    except PortalError as exc:
        return _not_genuine(request, exc)
    return _result(request, document, method="code")
