"""BankID's recommended user messages (RFA), and which one a hintCode or an errorCode gets.

The texts are BankID's own, in English here and in Swedish in the catalog, as BankID words
them; the other languages are translations of ours.
"""
from __future__ import annotations

from mypages_bankid.i18n import _

RFA = {
    "RFA1": _("Start your BankID app."),
    "RFA2": _("The BankID app is not installed. Please contact your bank."),
    "RFA3": _("Action cancelled. Please try again."),
    "RFA4": _("An identification or signing for this personal number is already started. "
              "Please try again."),
    "RFA5": _("Internal error. Please try again."),
    "RFA6": _("Action cancelled."),
    "RFA8": _("The BankID app is not responding. Please check that it’s started and that you "
              "have internet access. If you don’t have a valid BankID you can get one from "
              "your bank. Try again."),
    "RFA9": _("Enter your security code in the BankID app and select Identify or Sign."),
    "RFA13": _("Trying to start your BankID app."),
    "RFA15A": _("Searching for BankID:s, it may take a little while … If a few seconds have "
                "passed and still no BankID has been found, you probably don’t have a BankID "
                "which can be used for this identification/signing on this computer. If you "
                "have a BankID card, please insert it into your card reader. If you don’t "
                "have a BankID you can get one from your bank."),
    "RFA15B": _("Searching for BankID, it may take a little while … If a few seconds have "
                "passed and still no BankID has been found, you probably don’t have a BankID "
                "which can be used for this identification/signing on this device. If you "
                "don’t have a BankID you can get one from your bank."),
    "RFA16": _("The BankID you are trying to use is blocked or too old. Please use another "
               "BankID or get a new one from your bank."),
    "RFA17A": _("The BankID app couldn’t be found on your computer or mobile device. Please "
                "install it and get a BankID from your bank. Install the app from your app "
                "store or https://install.bankid.com"),
    "RFA17B": _("Failed to scan the QR code. Start the BankID app and scan the QR code. Check "
                "that the BankID app is up to date. If you don't have the BankID app, you need "
                "to install it and get a BankID from your bank. Install the app from your app "
                "store or https://install.bankid.com"),
    "RFA18": _("Start the BankID app."),
    "RFA19": _("Would you like to identify yourself or sign with a BankID on this computer, or "
               "with a Mobile BankID?"),
    "RFA20": _("Do you want to identify yourself or sign with a BankID on this device or with "
               "a BankID on another device?"),
    "RFA21": _("Identification or signing in progress."),
    "RFA22": _("Unknown error. Please try again."),
    "RFA23": _("Process your machine-readable travel document using the BankID app."),
}

#: errorCodes the person is told about; the rest are ours to fix (RFA22 for them)
ERRORS = {"alreadyInProgress": "RFA4", "requestTimeout": "RFA5", "maintenance": "RFA5",
          "internalError": "RFA5", "timeout": "RFA5", "unreachable": "RFA5", "tls": "RFA5",
          "tooManyRequests": "RFA5", "cancelled": "RFA3"}
FAILED = {"expiredTransaction": "RFA8", "certificateErr": "RFA16", "userCancel": "RFA6",
          "cancelled": "RFA3"}


def pending_rfa(hint_code: str | None, *, autostarted: bool, mobile: bool) -> str:
    if hint_code == "outstandingTransaction":
        return "RFA13" if autostarted else "RFA1"
    if hint_code == "noClient":
        return "RFA1"
    if hint_code == "started":
        return "RFA15B" if mobile else "RFA15A"
    if hint_code == "userSign":
        return "RFA9"
    if hint_code == "userMrtd":
        return "RFA23"
    return "RFA21"


def failed_rfa(hint_code: str | None, *, qr: bool) -> str:
    if hint_code == "startFailed":
        return "RFA17B" if qr else "RFA17A"
    return FAILED.get(hint_code, "RFA22")


def error_rfa(error_code: str) -> str:
    return ERRORS.get(error_code, "RFA22")
