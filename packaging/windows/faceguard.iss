; FaceGuard: the Windows installer (Inno Setup 6.3 or later).
;
; NOT BUILT OR TESTED: there is no Windows machine and no Inno Setup compiler where this recipe was
; written (see packaging/CROSS_PLATFORM.md). Read it as a reviewed starting point, not a proven one.
;
; It installs the PyInstaller one-folder bundle dist\faceguard\ (made by packaging\faceguard.spec) into
; {autopf}\FaceGuard, with Start-menu shortcuts for the kiosk and the admin window, an optional
; desktop shortcut, and an uninstaller. packaging\windows\build.ps1 builds the bundle and then runs:
;
;   iscc /DAppVersion=0.1.0 packaging\windows\faceguard.iss
;
; -> dist\faceguard_<version>_x64_setup.exe
;
; The user's data (database, demo database, settings, cached models) lives in
; %LOCALAPPDATA%\faceguard (platformdirs' user_data_dir("faceguard", appauthor=False)), never under
; {app}: an upgrade replaces only the program files, and the uninstaller leaves that folder alone on
; purpose (there is no [UninstallDelete] entry for it, and there must never be one).

; ---- What the build passes in ------------------------------------------------------------------
#if VER < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 or later is needed (ArchitecturesAllowed=x64compatible)
#endif

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=<faceguard.__version__> packaging\windows\faceguard.iss
#endif

; The repository's root, from this script's folder (packaging\windows\).
#define RepoRoot AddBackslash(SourcePath) + "..\.."

#ifndef BundleDir
  #define BundleDir RepoRoot + "\dist\faceguard"
#endif
#ifndef OutputDir
  #define OutputDir RepoRoot + "\dist"
#endif

#define AppName "FaceGuard"
; The console program: the CLI, `faceguard.exe self-test`, `faceguard.exe --version`.
#define CliExe "faceguard.exe"
; The program the shortcuts start. The spec builds one console program today, so a console window
; opens beside the kiosk and the admin window. When the spec's Windows branch also builds a windowed
; twin (console=False) named faceguardw.exe in the same folder, the shortcuts use that one instead.
#if FileExists(BundleDir + "\faceguardw.exe")
  #define GuiExe "faceguardw.exe"
#else
  #define GuiExe "faceguard.exe"
#endif

#if !FileExists(BundleDir + "\" + CliExe)
  #error No bundle at BundleDir: build it first (packaging\windows\build.ps1, or pyinstaller packaging\faceguard.spec)
#endif

; ---- Setup ------------------------------------------------------------------------------------
[Setup]
; AppId ties upgrades and the uninstaller to this product: never change it. (The doubled brace
; escapes Inno Setup's constant syntax.)
AppId={{D5CDBD62-F1B1-4113-937E-09EDAC822A1D}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=FaceGuard
DefaultDirName={autopf}\FaceGuard
DefaultGroupName=FaceGuard
DisableProgramGroupPage=yes
; A door kiosk is normally installed for all users (Program Files, common Start menu); the dialog
; lets a person without administrator rights install for themselves instead
; ({autopf} is then %LOCALAPPDATA%\Programs).
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog commandline
; torch, OpenCV and Qt are 64-bit x64 builds.
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=faceguard_{#AppVersion}_x64_setup
SetupIconFile={#RepoRoot}\packaging\icons\faceguard.ico
UninstallDisplayIcon={app}\{#CliExe}
UninstallDisplayName={#AppName} {#AppVersion}
; The bundle is large (torch): LZMA2 in one solid block gives the smallest installer; the block is
; decompressed once at install time.
Compression=lzma2
SolidCompression=yes
LZMAUseSeparateProcess=yes
WizardStyle=modern
; Close a running kiosk or admin window (Restart Manager) before replacing its files on upgrade.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

; ---- Files ------------------------------------------------------------------------------------
[InstallDelete]
; An upgrade starts from an empty program folder: files a previous bundle had and this one does not
; (an older torch's DLLs, say) must not linger beside the new ones. Only {app} is touched, never the
; user's data folder.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; The model weights' licences and sources (the bundle ships the networks converted).
Source: "{#RepoRoot}\NOTICE"; DestDir: "{app}"; DestName: "NOTICE.txt"; Flags: ignoreversion

; ---- Shortcuts --------------------------------------------------------------------------------
[Icons]
Name: "{group}\FaceGuard Kiosk"; Filename: "{app}\{#GuiExe}"; Parameters: "kiosk"; WorkingDir: "{app}"; IconFilename: "{app}\{#CliExe}"; Comment: "The door kiosk (starts the DEMO when no camera is found)"
Name: "{group}\FaceGuard Admin"; Filename: "{app}\{#GuiExe}"; Parameters: "admin"; WorkingDir: "{app}"; IconFilename: "{app}\{#CliExe}"; Comment: "People, enrollment, access log and settings"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\FaceGuard Kiosk"; Filename: "{app}\{#GuiExe}"; Parameters: "kiosk"; WorkingDir: "{app}"; IconFilename: "{app}\{#CliExe}"; Tasks: desktopicon

; ---- After installing -------------------------------------------------------------------------
[Run]
; postinstall entries run as the person who started Setup (runasoriginaluser), not as the elevated
; administrator, so the database they create lands in that person's %LOCALAPPDATA%\faceguard.
; The self-test is a console program: cmd /k keeps its report on screen.
Filename: "{cmd}"; Parameters: "/k """"{app}\{#CliExe}"" self-test"""; Description: "Run the FaceGuard self-test"; Flags: postinstall skipifsilent unchecked runasoriginaluser
Filename: "{app}\{#GuiExe}"; Parameters: "admin"; WorkingDir: "{app}"; Description: "{cm:LaunchProgram,FaceGuard Admin}"; Flags: postinstall nowait skipifsilent unchecked runasoriginaluser

; ---- Uninstalling -----------------------------------------------------------------------------
[UninstallDelete]
; Everything Setup installed is removed by the uninstall log; this also removes files the program
; folder gained later. %LOCALAPPDATA%\faceguard (the user's database) is deliberately not listed.
Type: filesandordirs; Name: "{app}\_internal"
Type: dirifempty; Name: "{app}"
