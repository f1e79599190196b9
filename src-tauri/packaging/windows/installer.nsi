; ID Desk for Windows: the project's own NSIS script (issue 30), built on Debian by `make windows`
; with Debian's nsis (makensis 3.08, 64-bit Unicode stubs). Not Tauri's bundler: on Linux it
; downloads nsis_tauri_utils.dll from GitHub (and, by default, the WebView2 bootstrapper), and
; a bank's build machine and PCs fetch nothing.
;
;   id-desk-setup.exe                 per user, no admin rights: %LOCALAPPDATA%\Programs\ID Desk
;   id-desk-setup.exe /ALLUSERS       per machine (IT, elevated): %ProgramFiles%\ID Desk, and
;                                     %ProgramData%\ID Desk created with a protected ACL
;   /S silent, /D=C:\path (last)      as every NSIS installer
;
; Uninstalling removes the program, its Start menu entry and the id-desk:// scheme, and keeps the
; user's data (%APPDATA%\ID Desk, %LOCALAPPDATA%\ID Desk: profiles, vault, logs), the keyring
; entries and IT's %ProgramData%\ID Desk, as the .deb does.
;
; makensis -DVERSION=0.1.0 -DBIN_DIR=<release dir> -DSRC_DIR=<repo> -DOUTFILE=<exe> installer.nsi

Unicode true
Target amd64-unicode
; -DNO_COMPRESSION: the test installer of `make test-windows` (LZMA takes 2 minutes over the
; debug builds; the release installer is compressed).
!ifdef NO_COMPRESSION
  SetCompress off
!else
  SetCompressor /SOLID lzma
!endif
ManifestDPIAware true
; Staff have no admin rights: the per-user install never asks for elevation. IT elevates.
RequestExecutionLevel user

!ifndef VERSION
  !error "-DVERSION=x.y.z is required"
!endif
!ifndef BIN_DIR
  !error "-DBIN_DIR=<directory with id-desk.exe and id-desk-cli.exe> is required"
!endif
!ifndef SRC_DIR
  !error "-DSRC_DIR=<repository root> is required"
!endif
!ifndef OUTFILE
  !define OUTFILE "id-desk-${VERSION}-setup.exe"
!endif

!define PRODUCT "ID Desk"
!define PUBLISHER "ID Desk"
!define SCHEME "id-desk"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\ID Desk"
; The Evergreen WebView2 Runtime's client id (Microsoft's documented registry check).
!define WEBVIEW2_CLIENT "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir ""
BrandingText "${PRODUCT} ${VERSION}"
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "LegalCopyright" "${PUBLISHER}"

!define MUI_ICON "${SRC_DIR}\icons\icon.ico"
!define MUI_UNICON "${SRC_DIR}\icons\icon.ico"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\id-desk.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Open ID Desk"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Var AllUsers

!macro ReadMode
  StrCpy $AllUsers 0
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/ALLUSERS" $R1
  ${IfNot} ${Errors}
    StrCpy $AllUsers 1
  ${EndIf}
!macroend

!macro RequireAdmin what
  UserInfo::GetAccountType
  Pop $R2
  ${If} $R2 != "admin"
    MessageBox MB_ICONSTOP|MB_OK "${what} for all users needs an administrator. Run it elevated (as IT does through Intune or SCCM), or without /ALLUSERS to install for yourself." /SD IDOK
    SetErrorLevel 740
    Quit
  ${EndIf}
!macroend

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP|MB_OK "ID Desk needs 64-bit Windows 10 or 11." /SD IDOK
    SetErrorLevel 1
    Quit
  ${EndIf}
  SetRegView 64
  !insertmacro ReadMode
  ${If} $AllUsers == 1
    !insertmacro RequireAdmin "Installing ID Desk"
    SetShellVarContext all
    ${If} $INSTDIR == ""
      StrCpy $INSTDIR "$PROGRAMFILES64\${PRODUCT}"
    ${EndIf}
  ${Else}
    SetShellVarContext current
    ${If} $INSTDIR == ""
      StrCpy $INSTDIR "$LOCALAPPDATA\Programs\${PRODUCT}"
    ${EndIf}
  ${EndIf}
FunctionEnd

; WebView2 ships with Windows 11 and current Windows 10. Where it is missing, nothing is
; downloaded: the desk is installed (the CLI works), and IT is told what to install.
Function CheckWebView2
  StrCpy $R3 ""
  ReadRegStr $R3 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${If} $R3 == ""
  ${OrIf} $R3 == "0.0.0.0"
    ReadRegStr $R3 HKLM "SOFTWARE\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  ${If} $R3 == ""
  ${OrIf} $R3 == "0.0.0.0"
    ReadRegStr $R3 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  ${If} $R3 == ""
  ${OrIf} $R3 == "0.0.0.0"
    DetailPrint "WebView2 Runtime: not found on this PC"
    MessageBox MB_ICONEXCLAMATION|MB_OK "ID Desk is installed, but this PC does not have the Microsoft Edge WebView2 Runtime, which the ID Desk window needs. Nothing was downloaded.$\r$\n$\r$\nAsk IT to install the WebView2 Runtime (the offline 'Evergreen Standalone Installer' from Microsoft). Until then the window will not open; id-desk-cli works." /SD IDOK
  ${Else}
    DetailPrint "WebView2 Runtime: $R3"
  ${EndIf}
FunctionEnd

Section "ID Desk" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${BIN_DIR}\id-desk.exe"
  File "${BIN_DIR}\id-desk-cli.exe"
  !ifdef WEBVIEW2_LOADER
    File "${WEBVIEW2_LOADER}"
  !endif
  File "/oname=policy.toml.example" "${SRC_DIR}\src-tauri\packaging\policy.toml.example"
  File "/oname=README.txt" "${SRC_DIR}\src-tauri\packaging\windows\README.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\id-desk.exe" "" "$INSTDIR\id-desk.exe" 0 \
    SW_SHOWNORMAL "" "Identify customers and collect consent signatures with BankID"

  ; id-desk:// for the phone system's screen-pop: Windows starts the desk with the link as its
  ; argument, and the running desk takes it (single instance). SHCTX: HKCU per user, HKLM per
  ; machine.
  WriteRegStr SHCTX "Software\Classes\${SCHEME}" "" "URL:ID Desk screen-pop"
  WriteRegStr SHCTX "Software\Classes\${SCHEME}" "URL Protocol" ""
  WriteRegStr SHCTX "Software\Classes\${SCHEME}\DefaultIcon" "" "$\"$INSTDIR\id-desk.exe$\",0"
  WriteRegStr SHCTX "Software\Classes\${SCHEME}\shell\open\command" "" "$\"$INSTDIR\id-desk.exe$\" $\"%1$\""

  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayIcon" "$\"$INSTDIR\id-desk.exe$\""
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  ${If} $AllUsers == 1
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "UninstallString" "$\"$INSTDIR\uninstall.exe$\" /ALLUSERS"
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "QuietUninstallString" "$\"$INSTDIR\uninstall.exe$\" /ALLUSERS /S"
  ${Else}
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "UninstallString" "$\"$INSTDIR\uninstall.exe$\""
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "QuietUninstallString" "$\"$INSTDIR\uninstall.exe$\" /S"
  ${EndIf}
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "EstimatedSize" $0

  ; Per machine: IT's directory for policy.toml and managed profiles, owned by Administrators
  ; and changeable by them alone (review finding N-1). The desk refuses one anybody else could
  ; have written.
  ${If} $AllUsers == 1
    nsExec::ExecToLog '"$INSTDIR\id-desk-cli.exe" system-dir protect'
    Pop $R4
    ${If} $R4 != 0
      DetailPrint "$COMMONPROGRAMDATA\${PRODUCT} could not be protected (exit $R4)"
      MessageBox MB_ICONSTOP|MB_OK "The folder for IT's policy ($COMMONPROGRAMDATA\${PRODUCT}) could not be given to the administrators alone (exit $R4). ID Desk will refuse a policy there until it is." /SD IDOK
      SetErrorLevel 2
    ${EndIf}
  ${EndIf}

  Call CheckWebView2
SectionEnd

Function un.onInit
  SetRegView 64
  !insertmacro ReadMode
  ${If} $AllUsers == 1
    !insertmacro RequireAdmin "Uninstalling ID Desk"
    SetShellVarContext all
  ${Else}
    SetShellVarContext current
  ${EndIf}
FunctionEnd

Section "Uninstall"
  Delete "$INSTDIR\id-desk.exe"
  Delete "$INSTDIR\id-desk-cli.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\policy.toml.example"
  Delete "$INSTDIR\README.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  DeleteRegKey SHCTX "Software\Classes\${SCHEME}"
  DeleteRegKey SHCTX "${UNINSTALL_KEY}"
  ; Kept on purpose: %APPDATA%\ID Desk, %LOCALAPPDATA%\ID Desk (profiles, the evidence vault,
  ; logs), the Credential Manager entries and %ProgramData%\ID Desk (IT's policy).
SectionEnd
