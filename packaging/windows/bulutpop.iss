; Inno Setup 6.3+ script: a per-user installer (no administrator rights) for the one-folder
; bundle that packaging/bulutpop.spec builds in dist\bulutpop.
;
;   iscc /DAppVersion=X.Y.Z /DAppNumericVersion=X.Y.Z.0 packaging\windows\bulutpop.iss
;
; scripts/build runs this on Windows with the version from pyproject.toml (and its numeric
; form for the file version resource); the installer lands in
; dist\bulutpop-<version>-setup.exe.
;
; Installs into %LOCALAPPDATA%\Programs\bulutpop, adds a Start-menu entry, optionally
; starts bulutpop at login, and registers it for tel: and callto: links, all under
; HKEY_CURRENT_USER, without taking a link scheme from another app. Once the user confirmed
; the uninstall, the uninstaller asks whether to delete settings, call history and the
; stored secrets too.

#ifndef AppVersion
  #error Pass the version from pyproject.toml: iscc /DAppVersion=X.Y.Z bulutpop.iss
#endif
#define AppName "bulutpop"
#define AppExe "bulutpop.exe"
; The command line (a console program, packaging/bulutpop.spec)
#define CliExe "bulutpop-cli.exe"
#define BundleDir "..\..\dist\bulutpop"
; The ProgID that tel: and callto: point to (Default Programs and the Settings app
; list it under "Choose default apps by link type").
#define ProgId "bulutpop.url"
#define CapabilitiesKey "Software\bulutpop\Capabilities"

[Setup]
; A fixed id: upgrades replace the installed copy instead of adding a second one.
AppId={{6B1E2C1A-57C3-4D9B-9E6F-0B7D3A5C2E41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=The bulutpop developers
#ifdef AppNumericVersion
VersionInfoVersion={#AppNumericVersion}
#endif
; Per user: no UAC prompt; {autopf} is %LOCALAPPDATA%\Programs, HKA is HKCU.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
SetupIconFile=..\..\build\bulutpop\bulutpop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Tell Explorer that the tel:/callto: associations changed.
ChangesAssociations=yes
; An upgrade closes a running bulutpop (Restart Manager) before replacing its files; the
; uninstaller ends it itself (CurUninstallStepChanged).
CloseApplications=yes
RestartApplications=no
ShowLanguageDialog=auto

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "tr"; MessagesFile: "compiler:Languages\Turkish.isl"

[CustomMessages]
en.AutoStart=Start bulutpop when I sign in to Windows
tr.AutoStart=Windows'a oturum açtığımda bulutpop'u başlat
en.AdditionalOptions=Additional options:
tr.AdditionalOptions=Ek seçenekler:
en.TelLinks=Open tel: and callto: links with bulutpop
tr.TelLinks=tel: ve callto: bağlantılarını bulutpop ile aç
en.LaunchNow=Start bulutpop now
tr.LaunchNow=bulutpop'u şimdi başlat
en.DeleteData=Also delete bulutpop's settings, call history and stored API key and team secret?%n%nChoose No to keep them for a later installation.
tr.DeleteData=bulutpop'un ayarları, çağrı geçmişi, kayıtlı API anahtarı ve ekip parolası da silinsin mi?%n%nDaha sonraki bir kurulumda kullanmak için Hayır'ı seçin.

[Tasks]
Name: "autostart"; Description: "{cm:AutoStart}"; GroupDescription: "{cm:AdditionalOptions}"
Name: "tellinks"; Description: "{cm:TelLinks}"; GroupDescription: "{cm:AdditionalOptions}"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade starts from a clean folder, so no library of the old version lingers.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Screen pop, missed calls and click-to-dial for Bulutsantralim"

[Registry]
; Start at login: the same value the app's own "Start at login" setting writes
; (bulutpop/local/autostart.py), so either place can switch it off.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#AppExe}"""; Tasks: autostart
; Removed at uninstall whichever place switched it on (ValueType none writes nothing), with
; Task Manager's on/off switch for it.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: none; ValueName: "{#AppName}"; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"; ValueType: none; ValueName: "{#AppName}"; Flags: uninsdeletevalue

; The ProgID: how bulutpop opens a link.
Root: HKCU; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "bulutpop phone link"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

; Registered application: lets the user pick bulutpop for tel:/callto: in Settings →
; Default apps even when another app (Teams, Phone Link, Skype) has claimed them.
Root: HKCU; Subkey: "Software\bulutpop"; Flags: uninsdeletekey
Root: HKCU; Subkey: "{#CapabilitiesKey}"; ValueType: string; ValueName: "ApplicationName"; ValueData: "{#AppName}"
Root: HKCU; Subkey: "{#CapabilitiesKey}"; ValueType: string; ValueName: "ApplicationDescription"; ValueData: "Screen pop, missed calls and click-to-dial for Bulutsantralim"
Root: HKCU; Subkey: "{#CapabilitiesKey}\URLAssociations"; ValueType: string; ValueName: "tel"; ValueData: "{#ProgId}"
Root: HKCU; Subkey: "{#CapabilitiesKey}\URLAssociations"; ValueType: string; ValueName: "callto"; ValueData: "{#ProgId}"
Root: HKCU; Subkey: "Software\RegisteredApplications"; ValueType: string; ValueName: "{#AppName}"; ValueData: "{#CapabilitiesKey}"; Flags: uninsdeletevalue

; The URL protocols themselves, in the user's classes (HKCU\Software\Classes): the
; handler wherever no other app holds the user's choice for them. Only where no other app
; has a per-user handler there (MayHandleScheme); where one has, Settings → Default apps
; offers bulutpop through the capabilities above. The uninstaller removes these values
; itself, and only while they are still bulutpop's (ReleaseScheme).
Root: HKCU; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: ""; ValueData: "URL:tel Protocol"; Tasks: tellinks; Check: MayHandleScheme('tel')
Root: HKCU; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Tasks: tellinks; Check: MayHandleScheme('tel')
Root: HKCU; Subkey: "Software\Classes\tel\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"; Tasks: tellinks; Check: MayHandleScheme('tel')
Root: HKCU; Subkey: "Software\Classes\tel\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: tellinks; Check: MayHandleScheme('tel')
Root: HKCU; Subkey: "Software\Classes\callto"; ValueType: string; ValueName: ""; ValueData: "URL:callto Protocol"; Tasks: tellinks; Check: MayHandleScheme('callto')
Root: HKCU; Subkey: "Software\Classes\callto"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Tasks: tellinks; Check: MayHandleScheme('callto')
Root: HKCU; Subkey: "Software\Classes\callto\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"; Tasks: tellinks; Check: MayHandleScheme('callto')
Root: HKCU; Subkey: "Software\Classes\callto\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: tellinks; Check: MayHandleScheme('callto')

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchNow}"; Flags: nowait postinstall skipifsilent

[Code]
var
  DeleteUserData: Boolean;
  // The link schemes (' tel ', ' callto ') whose per-user handler bulutpop writes, decided
  // before the [Registry] entries run: the second entry would see the first one's key.
  HandledSchemes: String;

// The command a handler of ours runs; a handler that runs another is another app's.
function HandlesScheme(const Scheme: String): Boolean;
var
  Command: String;
begin
  Result := RegQueryStringValue(HKCU, 'Software\Classes\' + Scheme + '\shell\open\command',
    '', Command) and
    (CompareText(Command, '"' + ExpandConstant('{app}\{#AppExe}') + '" "%1"') = 0);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if CurStep = ssInstall then
  begin
    // Free, or already bulutpop's (an upgrade): never another app's.
    HandledSchemes := ' ';
    if not RegKeyExists(HKCU, 'Software\Classes\tel') or HandlesScheme('tel') then
      HandledSchemes := HandledSchemes + 'tel ';
    if not RegKeyExists(HKCU, 'Software\Classes\callto') or HandlesScheme('callto') then
      HandledSchemes := HandledSchemes + 'callto ';
  end;
end;

function MayHandleScheme(const Scheme: String): Boolean;
begin
  Result := Pos(' ' + Scheme + ' ', HandledSchemes) > 0;
end;

// Remove what the installer wrote for a scheme, value by value, while it is still ours;
// an app that took the scheme over since keeps its handler.
procedure ReleaseScheme(const Scheme: String);
var
  Key: String;
begin
  if not HandlesScheme(Scheme) then
    Exit;
  Key := 'Software\Classes\' + Scheme;
  RegDeleteValue(HKCU, Key + '\shell\open\command', '');
  RegDeleteKeyIfEmpty(HKCU, Key + '\shell\open\command');
  RegDeleteKeyIfEmpty(HKCU, Key + '\shell\open');
  RegDeleteKeyIfEmpty(HKCU, Key + '\shell');
  RegDeleteValue(HKCU, Key + '\DefaultIcon', '');
  RegDeleteKeyIfEmpty(HKCU, Key + '\DefaultIcon');
  RegDeleteValue(HKCU, Key, '');
  RegDeleteValue(HKCU, Key, 'URL Protocol');
  RegDeleteKeyIfEmpty(HKCU, Key);
end;

// The uninstaller's order: InitializeUninstall, Inno's own "Are you sure?", usAppMutexCheck,
// the progress form, usUninstall (files and registry go), usPostUninstall. Nothing is
// asked or ended before the user confirmed.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  ResultCode: Integer;
begin
  if CurUninstallStep = usAppMutexCheck then
  begin
    // Silent uninstalls (/SILENT, /VERYSILENT) keep the data: deleting needs a yes.
    DeleteUserData := (not UninstallSilent()) and
      (MsgBox(CustomMessage('DeleteData'), mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES);
  end
  else if CurUninstallStep = usUninstall then
  begin
    // A running bulutpop (a tray app: no window to close) keeps its files open. End this
    // user's copies; its call store is SQLite in WAL mode and survives that.
    Exec(ExpandConstant('{sys}\taskkill.exe'),
      '/F /IM {#AppExe} /IM {#CliExe} /FI "USERNAME eq ' + GetUserNameString() + '"', '',
      SW_HIDE, ewWaitUntilTerminated, ResultCode);
    ReleaseScheme('tel');
    ReleaseScheme('callto');
    // While the program is still there: the API key and the team secret are in Windows
    // Credential Manager, which only the program's keyring code knows how to address.
    if DeleteUserData then
      Exec(ExpandConstant('{app}\{#CliExe}'), 'key delete --all', '', SW_HIDE,
        ewWaitUntilTerminated, ResultCode);
  end
  else if (CurUninstallStep = usPostUninstall) and DeleteUserData then
  begin
    // platformdirs: config, data and cache under %LOCALAPPDATA%\bulutpop\bulutpop.
    DelTree(ExpandConstant('{localappdata}\{#AppName}'), True, True, True);
    DelTree(ExpandConstant('{userappdata}\{#AppName}'), True, True, True);
  end;
end;
