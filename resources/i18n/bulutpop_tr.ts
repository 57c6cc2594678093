<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="tr_TR" sourcelanguage="en">
<context>
    <name>AccountTab</name>
    <message>
        <location filename="../../bulutpop/ui/settings/account_tab.py" line="+46"/>
        <source>Paste the key from the PBX web portal</source>
        <translation>Santralin web portalındaki anahtarı yapıştırın</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Test</source>
        <translation>Test et</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Ask the PBX whether it accepts this key</source>
        <translation>Santrale bu anahtarı kabul edip etmediğini sor</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Checking the keyring…</source>
        <translation>Anahtar deposuna bakılıyor…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>You find it in the Bulutsantralim web portal, on the settings page. Treat it like a password: it can place calls and play recordings for the whole PBX.</source>
        <translation>Bulutsantralim web portalında, ayarlar sayfasında bulunur. Bir parola gibi saklayın: bu anahtarla tüm santral adına arama yapılabilir ve ses kayıtları dinlenebilir.</translation>
    </message>
    <message>
        <location line="+16"/>
        <location line="+150"/>
        <source>The extension of your own phone.</source>
        <translation>Kendi telefonunuzun dahili numarası.</translation>
    </message>
    <message>
        <location line="-142"/>
        <source>Optional. Queues or other extensions whose calls should pop up here too, separated by spaces.</source>
        <translation>İsteğe bağlı. Aramaları burada da gösterilecek kuyruklar veya diğer dahililer; aralarına boşluk koyun.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>API key</source>
        <translation>API anahtarı</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your extension</source>
        <translation>Dahiliniz</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Also pop up for</source>
        <translation>Şunlar için de göster</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Enter your extension, e.g. 1001.</source>
        <translation>Dahilinizi girin, örneğin 1001.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Paste your API key to continue.</source>
        <translation>Devam etmek için API anahtarınızı yapıştırın.</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Type a new key to replace it</source>
        <translation>Değiştirmek için yeni anahtarı yazın</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Until then, an administrator can start bulutpop for this session with the key in an environment variable, which is kept in memory only: in a terminal, run  read -rs BULUTPOP_API_KEY &amp;&amp; export BULUTPOP_API_KEY &amp;&amp; bulutpop  and paste the key.</source>
        <translation>O zamana kadar bir yönetici, anahtarı yalnızca bellekte tutulan bir ortam değişkenine koyarak bulutpop&apos;u bu oturum için başlatabilir: bir terminalde  read -rs BULUTPOP_API_KEY &amp;&amp; export BULUTPOP_API_KEY &amp;&amp; bulutpop  komutunu çalıştırıp anahtarı yapıştırın.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The API key is kept in memory only and is forgotten at exit.</source>
        <translation>API anahtarı yalnızca bellekte tutuluyor; uygulama kapanınca unutulur.</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>The new key will be saved in %1</source>
        <translation>Yeni anahtarın kaydedileceği yer: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>•••• stored in %1</source>
        <translation>•••• kayıtlı: %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>•••• from the BULUTPOP_API_KEY environment variable, which takes precedence over a key saved here</source>
        <translation>•••• BULUTPOP_API_KEY ortam değişkeninden; burada kaydedilen anahtardan önce bu kullanılır</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No API key stored yet</source>
        <translation>Henüz kayıtlı API anahtarı yok</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Asking the PBX…</source>
        <translation>Santrale soruluyor…</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Type the API key first.</source>
        <translation>Önce API anahtarını yazın.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The PBX refused this key.</source>
        <translation>Santral bu anahtarı kabul etmedi.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Key accepted by the PBX.</source>
        <translation>Santral anahtarı kabul etti.</translation>
    </message>
    <message>
        <location line="+11"/>
        <location line="+3"/>
        <source>The API key was not saved.</source>
        <translation>API anahtarı kaydedilmedi.</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Set by your team invite. To use another extension, leave the team and join with an invite for it.</source>
        <translation>Ekip davetinizle belirlendi. Başka bir dahili kullanmak için ekipten ayrılın ve o dahilinin davetiyle yeniden katılın.</translation>
    </message>
</context>
<context>
    <name>ActionsDelegate</name>
    <message>
        <location filename="../../bulutpop/ui/missed/window.py" line="+228"/>
        <source>Call back</source>
        <translation>Geri ara</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Done</source>
        <translation>Tamamla</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy</source>
        <translation>Kopyala</translation>
    </message>
    <message>
        <location line="+8"/>
        <location line="+21"/>
        <location line="+3"/>
        <source>Calling…</source>
        <translation>Aranıyor…</translation>
    </message>
    <message>
        <location line="+102"/>
        <source>Ring your phone, then dial %1 (Enter)</source>
        <translation>Önce telefonunuz çalar, sonra %1 aranır (Enter)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove %1 from the list without calling (Delete)</source>
        <translation>%1 numarasını aramadan listeden kaldır (Delete)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy %1 to the clipboard</source>
        <translation>%1 numarasını panoya kopyala</translation>
    </message>
</context>
<context>
    <name>AddressBooksTab</name>
    <message>
        <location filename="../../bulutpop/ui/settings/address_books_tab.py" line="+51"/>
        <source>Address books</source>
        <translation>Adres defterleri</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Address book</source>
        <translation>Adres defteri</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Type</source>
        <translation>Tür</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Contacts</source>
        <translation>Kişi</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Updated</source>
        <translation>Son güncelleme</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Add address book…</source>
        <translation>Adres defteri ekle…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A CSV file with a header row, or a vCard file (.vcf)</source>
        <translation>Başlık satırı olan bir CSV dosyası veya bir vCard dosyası (.vcf)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Remove</source>
        <translation>Kaldır</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Sync PBX phonebook now</source>
        <translation>Santral rehberini şimdi eşitle</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Callers&apos; names come from the PBX&apos;s phonebook and from address books you add: a CSV file with a header row, or a vCard file. A name you edit in the missed calls or the history wins over both.</source>
        <translation>Arayanların adları santralin rehberinden ve eklediğiniz adres defterlerinden gelir: başlık satırı olan bir CSV dosyası veya bir vCard dosyası. Cevapsız çağrılarda ya da arama geçmişinde düzenlediğiniz ad ikisinden de önce gelir.</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Sync failed</source>
        <translation>Eşitleme başarısız</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Not synced yet</source>
        <translation>Henüz eşitlenmedi</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>PBX phonebook</source>
        <translation>Santral rehberi</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>PBX</source>
        <translation>Santral</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>Add address books</source>
        <translation>Adres defteri ekle</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Address books (*.csv *.vcf *.vcard)</source>
        <translation>Adres defterleri (*.csv *.vcf *.vcard)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>All files (*)</source>
        <translation>Tüm dosyalar (*)</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Reading %1…</source>
        <translation>%1 okunuyor…</translation>
    </message>
    <message numerus="yes">
        <location line="+13"/>
        <source>%1: %n contact(s)</source>
        <translation>
            <numerusform>%1: %n kişi</numerusform>
        </translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Added %1.</source>
        <translation>Eklendi: %1.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Not added: %1</source>
        <translation>Eklenmedi: %1</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Removed %1.</source>
        <translation>Kaldırıldı: %1.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Asking the PBX…</source>
        <translation>Santrale soruluyor…</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>The PBX phonebook was not synced: %1</source>
        <translation>Santral rehberi eşitlenmedi: %1</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>The PBX phonebook has %n contact(s).</source>
        <translation>
            <numerusform>Santral rehberinde %n kişi var.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CallPopup</name>
    <message>
        <location filename="../../bulutpop/ui/popup.py" line="+371"/>
        <location line="+186"/>
        <source>Incoming call</source>
        <translation>Gelen arama</translation>
    </message>
    <message>
        <location line="-185"/>
        <location line="+1"/>
        <source>Close</source>
        <translation>Kapat</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open in CRM</source>
        <translation>CRM&apos;de aç</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+178"/>
        <source>Copy</source>
        <translation>Kopyala</translation>
    </message>
    <message>
        <location line="-177"/>
        <source>Copy the number</source>
        <translation>Numarayı kopyala</translation>
    </message>
    <message>
        <location line="-41"/>
        <location line="+180"/>
        <source>Call back</source>
        <translation>Geri ara</translation>
    </message>
    <message>
        <location line="-179"/>
        <source>Ring your phone, then dial the caller</source>
        <translation>Önce telefonunuz çalar, sonra arayan aranır</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>✎ Note</source>
        <translation>✎ Not</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Note…</source>
        <translation>Not…</translation>
    </message>
    <message>
        <location line="+114"/>
        <source>Hidden number</source>
        <translation>Gizli numara</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>No browser opened; link copied: %1</source>
        <translation>Tarayıcı açılamadı; bağlantı kopyalandı: %1</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Calling…</source>
        <translation>Aranıyor…</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Phone ringing</source>
        <translation>Telefonunuz çalıyor</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Your phone is ringing — pick up to call %1.</source>
        <translation>Telefonunuz çalıyor — açtığınızda %1 aranacak.</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Edit the note on this caller</source>
        <translation>Bu arayanın notunu düzenle</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A short note on this caller, shown on their next call</source>
        <translation>Bu arayan için kısa bir not; bir sonraki aramasında gösterilir</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Copied</source>
        <translation>Kopyalandı</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Internal call</source>
        <translation>Dahili arama</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Call</source>
        <translation>Arama</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Queue</source>
        <translation>Kuyruk</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Queue %1</source>
        <translation>Kuyruk: %1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Extension %1</source>
        <translation>Dahili: %1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Ringing</source>
        <translation>Çalıyor</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>You answered</source>
        <translation>Siz yanıtladınız</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 answered</source>
        <translation>%1 yanıtladı</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A colleague answered</source>
        <translation>Bir iş arkadaşınız yanıtladı</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No longer ringing here</source>
        <translation>Burada artık çalmıyor</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Missed</source>
        <translation>Cevapsız</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ended</source>
        <translation>Sona erdi</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>First time calling</source>
        <translation>İlk kez arıyor</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 · last: %2</source>
        <translation>%1 · son: %2</translation>
    </message>
    <message>
        <location line="+6"/>
        <location line="+8"/>
        <source>%1th call</source>
        <translation>%1. arama</translation>
    </message>
    <message>
        <location line="-6"/>
        <source>%1st call</source>
        <translation>%1. arama</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1nd call</source>
        <translation>%1. arama</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1rd call</source>
        <translation>%1. arama</translation>
    </message>
</context>
<context>
    <name>DesktopApp</name>
    <message>
        <location filename="../../bulutpop/ui/app.py" line="+172"/>
        <source>bulutpop demo</source>
        <translation>bulutpop tanıtımı</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A fake PBX on this PC now plays sample calls every few seconds, so you can try popups, missed calls, calling back and recordings. The calls are made up.</source>
        <translation>Bu bilgisayardaki sahte bir santral birkaç saniyede bir örnek arama gönderiyor; açılır pencereleri, cevapsız çağrıları, geri aramayı ve ses kayıtlarını deneyebilirsiniz. Aramalar gerçek değildir.</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>The call receiver could not start</source>
        <translation>Arama alıcısı başlatılamadı</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The team link could not start</source>
        <translation>Ekip bağlantısı başlatılamadı</translation>
    </message>
    <message>
        <location line="+213"/>
        <source>About bulutpop</source>
        <translation>bulutpop hakkında</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>bulutpop %1

Screen pop, missed calls, click-to-dial and recordings for Bulutsantralim.

Data folder: %2</source>
        <translation>bulutpop %1

Bulutsantralim için arayanı gösteren açılır pencere, cevapsız çağrılar, tıkla-ara ve ses kayıtları.

Veri klasörü: %2</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>Call not placed</source>
        <translation>Arama yapılamadı</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Calling</source>
        <translation>Aranıyor</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your phone is ringing: pick up to call %1</source>
        <translation>Telefonunuz çalıyor: açtığınızda %1 aranacak</translation>
    </message>
</context>
<context>
    <name>DialDialog</name>
    <message>
        <location filename="../../bulutpop/ui/dial.py" line="+137"/>
        <source>Dial</source>
        <translation>Ara</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Call a number</source>
        <translation>Arama yap</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Number, extension or tel: link</source>
        <translation>Numara, dahili veya tel: bağlantısı</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Number to call</source>
        <translation>Aranacak numara</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Cancel</source>
        <translation>İptal</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Call</source>
        <translation>Ara</translation>
    </message>
    <message>
        <location line="+78"/>
        <source>missed %1</source>
        <translation>cevapsız %1</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>called %1</source>
        <translation>aradınız %1</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Your phone (extension %1) rings first.</source>
        <translation>Önce telefonunuz (dahili %1) çalar.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Set your extension in Settings to dial.</source>
        <translation>Arama yapmak için Ayarlar&apos;dan dahilinizi girin.</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Type a number as you would write it, or pick a recent one.</source>
        <translation>Numarayı normalde yazdığınız gibi girin ya da son aramalardan birini seçin.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Not a phone number. Try 0532 123 45 67, +49 30 1234567 or 1001.</source>
        <translation>Bu bir telefon numarası değil. Örnek: 0532 123 45 67, +49 30 1234567 veya 1001.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Will call %1</source>
        <translation>Aranacak: %1</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>extension %1</source>
        <translation>dahili %1</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Calling… your phone will ring first</source>
        <translation>Aranıyor… önce telefonunuz çalacak</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Your phone is ringing — pick up to call %1.</source>
        <translation>Telefonunuz çalıyor — açtığınızda %1 aranacak.</translation>
    </message>
</context>
<context>
    <name>FallbackWindow</name>
    <message>
        <location filename="../../bulutpop/ui/tray.py" line="+542"/>
        <source>Finish setup…</source>
        <translation>Kurulumu tamamla…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Pause popups</source>
        <translation>Açılır pencereleri duraklat</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Do not disturb</source>
        <translation>Rahatsız etme</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your phone does not ring while this is on</source>
        <translation>Bu açıkken telefonunuz çalmaz</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Present my number as</source>
        <translation>Görünen numaram</translation>
    </message>
</context>
<context>
    <name>ForgetConfirmation</name>
    <message>
        <location filename="../../bulutpop/ui/common/actions.py" line="+228"/>
        <source>Delete this number&apos;s records</source>
        <translation>Bu numaranın kayıtlarını sil</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Delete everything this PC keeps about %1?</source>
        <translation>Bu bilgisayarın %1 hakkında tuttuğu her şey silinsin mi?</translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>Deleted from this PC, for good: %n call(s) with this number in the history and the missed calls, the call events that mention it, its name (yours and the address books&apos;), its missed-call marks and claims, and the recordings of its calls downloaded here.</source>
        <translation>
            <numerusform>Bu bilgisayardan kalıcı olarak silinecekler: geçmişte ve cevapsız çağrılarda bu numarayla yapılan %n arama, numaranın geçtiği çağrı olayları, adı (sizin verdiğiniz ve adres defterlerindeki), cevapsız çağrı işaretleri ve “ben arıyorum” kayıtları ile aramalarının buraya indirilen ses kayıtları.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The PBX keeps its own copies: its call history and the recordings of these calls stay there. To erase them too, delete them in the PBX&apos;s web portal, with the number&apos;s contact in its phonebook (bulutpop reads it again every day), or ask the PBX provider to.</source>
        <translation>Santral kendi kopyalarını tutar: arama geçmişi ve bu aramaların ses kayıtları orada kalır. Onları da silmek için santralin web portalından, numaranın santral rehberindeki kişisiyle birlikte silin (bulutpop rehberi her gün yeniden okur) veya santral sağlayıcınızdan silmesini isteyin.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Your colleagues&apos; PCs and the team server keep theirs: the team server&apos;s administrator erases the number everywhere in the team with “bulutpop relay forget”.</source>
        <translation>Ekip arkadaşlarınızın bilgisayarları ve ekip sunucusu kendi kopyalarını tutar: ekip sunucusunun yöneticisi numarayı “bulutpop relay forget” ile ekibin her yerinden siler.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Delete</source>
        <translation>Sil</translation>
    </message>
</context>
<context>
    <name>HistoryModel</name>
    <message>
        <location filename="../../bulutpop/ui/history/model.py" line="+224"/>
        <source>Time</source>
        <translation>Tarih</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Direction</source>
        <translation>Yön</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Number</source>
        <translation>Numara</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Queue</source>
        <translation>Kuyruk</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Result</source>
        <translation>Sonuç</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Duration</source>
        <translation>Süre</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recording</source>
        <translation>Ses kaydı</translation>
    </message>
    <message>
        <location line="+46"/>
        <location line="+8"/>
        <source>Has a recording</source>
        <translation>Ses kaydı var</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Space plays the recording, Enter calls the number, Ctrl+C copies it</source>
        <translation>Boşluk ses kaydını oynatır, Enter numarayı arar, Ctrl+C numarayı kopyalar</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Enter calls the number, Ctrl+C copies it</source>
        <translation>Enter numarayı arar, Ctrl+C numarayı kopyalar</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Unknown number</source>
        <translation>Bilinmeyen numara</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Incoming</source>
        <translation>Gelen</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Outgoing</source>
        <translation>Giden</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Internal</source>
        <translation>Dahili</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Waiting in the queue</source>
        <translation>Kuyrukta bekliyor</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>In call</source>
        <translation>Görüşmede</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Ringing</source>
        <translation>Çalıyor</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Answered</source>
        <translation>Yanıtlandı</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>▶ Play</source>
        <translation>▶ Dinle</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Recorded: click to play</source>
        <translation>Kaydı var: dinlemek için tıklayın</translation>
    </message>
    <message>
        <location line="-25"/>
        <source>Answered by you</source>
        <translation>Siz yanıtladınız</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Answered by %1</source>
        <translation>%1 yanıtladı</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Missed</source>
        <translation>Cevapsız</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Not answered</source>
        <translation>Yanıtlanmadı</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Through queue %1</source>
        <translation>%1 kuyruğu üzerinden</translation>
    </message>
</context>
<context>
    <name>HistoryWindow</name>
    <message>
        <location filename="../../bulutpop/ui/history/window.py" line="+74"/>
        <location line="+48"/>
        <location line="+44"/>
        <source>Call history</source>
        <translation>Arama geçmişi</translation>
    </message>
    <message>
        <location line="-87"/>
        <source>Search by number or name</source>
        <translation>Numara veya ada göre ara</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>All directions</source>
        <translation>Tüm yönler</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Incoming</source>
        <translation>Gelen</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Outgoing</source>
        <translation>Giden</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Internal</source>
        <translation>Dahili</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Missed only</source>
        <translation>Yalnızca cevapsızlar</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Play</source>
        <translation>Dinle</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Listen to the recording of the selected call</source>
        <translation>Seçili aramanın ses kaydını dinle</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+79"/>
        <source>Call</source>
        <translation>Ara</translation>
    </message>
    <message>
        <location line="-78"/>
        <source>Ring your phone, then dial the selected number</source>
        <translation>Önce telefonunuz çalar, sonra seçili numara aranır</translation>
    </message>
    <message>
        <location line="+58"/>
        <source>Answered by %1</source>
        <translation>%1 yanıtladı</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Duration</source>
        <translation>Süre</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Recording</source>
        <translation>Ses kaydı</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Play recording</source>
        <translation>Ses kaydını dinle</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Copy number</source>
        <translation>Numarayı kopyala</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Edit name…</source>
        <translation>Adı düzenle…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Delete this number&apos;s records…</source>
        <translation>Bu numaranın kayıtlarını sil…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Note…</source>
        <translation>Not…</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Clear filters</source>
        <translation>Filtreleri temizle</translation>
    </message>
    <message>
        <location line="+168"/>
        <source>1 call</source>
        <translation>1 arama</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 calls</source>
        <translation>%1 arama</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No calls match.</source>
        <translation>Eşleşen arama yok.</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>No calls yet.</source>
        <translation>Henüz arama yok.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Try another number or name, or clear the filters.</source>
        <translation>Başka bir numara veya ad deneyin ya da filtreleri temizleyin.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Calls to and from your extension will be listed here.</source>
        <translation>Dahilinizin yaptığı ve aldığı aramalar burada listelenir.</translation>
    </message>
</context>
<context>
    <name>MissedModel</name>
    <message>
        <location filename="../../bulutpop/ui/missed/model.py" line="+234"/>
        <source>Caller</source>
        <translation>Arayan</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Calls</source>
        <translation>Arama</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last call</source>
        <translation>Son arama</translation>
    </message>
    <message>
        <location filename="../../bulutpop/ui/common/actions.py" line="-199"/>
        <location filename="../../bulutpop/ui/missed/model.py" line="+1"/>
        <source>Queue</source>
        <translation>Kuyruk</translation>
    </message>
    <message>
        <location filename="../../bulutpop/ui/missed/model.py" line="+42"/>
        <source>Enter calls back, Delete marks done, Ctrl+C copies the number</source>
        <translation>Enter geri arar, Delete tamamlandı olarak işaretler, Ctrl+C numarayı kopyalar</translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>Missed call, %1, %n time(s), last %2</source>
        <translation>
            <numerusform>Cevapsız çağrı, %1, %n kez, son %2</numerusform>
        </translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unknown number</source>
        <translation>bilinmeyen numara</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>queue %1</source>
        <translation>kuyruk %1</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Hidden number</source>
        <translation>Gizli numara</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Calling… your phone will ring</source>
        <translation>Aranıyor… telefonunuz çalacak</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>You are calling back</source>
        <translation>Siz geri arıyorsunuz</translation>
    </message>
    <message>
        <location line="-19"/>
        <source>%1 is calling back</source>
        <translation>%1 geri arıyor</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 (claimed %2)</source>
        <comment>%2: &apos;5 min ago&apos;, &apos;14:32&apos;</comment>
        <translation>%1 (%2 üstlendi)</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Called back %1</source>
        <translation>Geri arandı: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answered %1</source>
        <translation>Yanıtlandı: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Marked done %1</source>
        <translation>Tamamlandı: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resolved %1</source>
        <translation>Çözüldü: %1</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Note: %1</source>
        <translation>Not: %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>1 missed call at %1</source>
        <translation>1 cevapsız çağrı: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 missed calls, first at %2</source>
        <translation>%1 cevapsız çağrı, ilki: %2</translation>
    </message>
</context>
<context>
    <name>MissedWindow</name>
    <message>
        <location filename="../../bulutpop/ui/missed/window.py" line="+90"/>
        <location line="+65"/>
        <source>Missed calls</source>
        <translation>Cevapsız çağrılar</translation>
    </message>
    <message>
        <location line="-59"/>
        <source>Show resolved</source>
        <translation>Çözülenleri göster</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Also list callers you called back or marked done</source>
        <translation>Geri aradığınız veya tamamlandı olarak işaretlediğiniz arayanları da listele</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Search by number or name</source>
        <translation>Numara veya ada göre ara</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Search missed calls</source>
        <translation>Cevapsız çağrılarda ara</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>The list stays still while you point at it; click to update</source>
        <translation>Fare listenin üzerindeyken liste yerinde durur; güncellemek için tıklayın</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>Last call</source>
        <translation>Son arama</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Call back</source>
        <translation>Geri ara</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Done</source>
        <translation>Tamamlandı olarak işaretle</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy number</source>
        <translation>Numarayı kopyala</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Edit name…</source>
        <translation>Adı düzenle…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete this number&apos;s records…</source>
        <translation>Bu numaranın kayıtlarını sil…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Note…</source>
        <translation>Not…</translation>
    </message>
    <message>
        <location line="+18"/>
        <location line="+239"/>
        <source>No missed calls. Nice!</source>
        <translation>Cevapsız çağrı yok. Harika!</translation>
    </message>
    <message>
        <location line="-194"/>
        <source>%1 is back in the list.</source>
        <translation>%1 listeye geri alındı.</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>Telling your team that you are calling %1 back…</source>
        <translation>Ekibinize %1 numarasını geri aradığınız bildiriliyor…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>%1 is already calling back.</source>
        <translation>%1 zaten geri arıyor.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A colleague is already calling back.</source>
        <translation>Bir iş arkadaşınız zaten geri arıyor.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>(Your team was not told: %1)</source>
        <translation>(Ekibinize bildirilemedi: %1)</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Marked %1 as done.</source>
        <translation>%1 tamamlandı olarak işaretlendi.</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>1 new caller — show</source>
        <translation>1 yeni arayan — göster</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 new callers — show</source>
        <translation>%1 yeni arayan — göster</translation>
    </message>
    <message>
        <location line="+70"/>
        <source>No caller matches.</source>
        <translation>Eşleşen arayan yok.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Try another number or name.</source>
        <translation>Başka bir numara ya da ad deneyin.</translation>
    </message>
    <message>
        <location line="+16"/>
        <location line="+1"/>
        <source>Missed calls (%1)</source>
        <translation>Cevapsız çağrılar (%1)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The %1 most recent of %2 callers are listed; find the others in the history.</source>
        <translation>%2 arayandan en yeni %1 tanesi listeleniyor; diğerlerini geçmişte bulabilirsiniz.</translation>
    </message>
    <message>
        <location line="-22"/>
        <source>Nothing resolved yet either.</source>
        <translation>Henüz çözülen bir arama da yok.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Calls you miss will show up here, ready to call back.</source>
        <translation>Kaçırdığınız aramalar burada görünür; buradan hemen geri arayabilirsiniz.</translation>
    </message>
</context>
<context>
    <name>NotificationsTab</name>
    <message>
        <location filename="../../bulutpop/ui/settings/notifications_tab.py" line="+42"/>
        <source>127.0.0.1 accepts connections from this PC only (use it with a tunnel); 0.0.0.0 also from your network.</source>
        <translation>127.0.0.1 yalnızca bu bilgisayardan gelen bağlantıları kabul eder (tünelle kullanın); 0.0.0.0 ağınızdan gelenleri de kabul eder.</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Copy</source>
        <translation>Kopyala</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Send test event</source>
        <translation>Test bildirimi gönder</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Post the PBX&apos;s address check to this URL and see whether it arrives here</source>
        <translation>Santralin adres kontrolünü bu adrese gönder ve buraya ulaşıp ulaşmadığına bak</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>The address of your tunnel or router that forwards to port %1 of this PC. Leave empty if the PBX can reach this PC directly.</source>
        <translation>Bu bilgisayarın %1 portuna yönlendiren tünelin veya modemin adresi. Santral bu bilgisayara doğrudan ulaşabiliyorsa boş bırakın.</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Copied. Paste it into the PBX&apos;s web portal.</source>
        <translation>Kopyalandı. Santralin web portalına yapıştırın.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Fix the highlighted fields first.</source>
        <translation>Önce işaretli alanları düzeltin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Sending…</source>
        <translation>Gönderiliyor…</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>The name in %1 cannot be resolved: check the address.</source>
        <translation>%1 adresindeki sunucu adı bulunamadı: adresi kontrol edin.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 presented a certificate this PC does not trust.</source>
        <translation>%1, bu bilgisayarın güvenmediği bir sertifika sundu.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Nothing is listening at %1 (connection refused). If you changed the address or port, save first; if it is a tunnel, check that it is running.</source>
        <translation>%1 adresinde dinleyen yok (bağlantı reddedildi). Adresi veya portu değiştirdiyseniz önce kaydedin; bir tünelse çalıştığını kontrol edin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Could not connect to %1: %2</source>
        <translation>%1 adresine bağlanılamadı: %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No answer from %1 within %2 s.</source>
        <translation>%1 adresinden %2 sn içinde yanıt gelmedi.</translation>
    </message>
    <message>
        <location line="-57"/>
        <source>This address works on this PC or your own network only, and the PBX is on the internet. Set a public URL (a tunnel such as Cloudflare Tunnel or ngrok, or a forwarded port) so that the PBX can reach bulutpop.</source>
        <translation>Bu adres yalnızca bu bilgisayarda ya da kendi ağınızda geçerli; santral ise internette. Santralin bulutpop&apos;a ulaşabilmesi için bir genel adres girin (Cloudflare Tunnel veya ngrok gibi bir tünel ya da yönlendirilmiş bir port).</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>Reached this app at %1, but only from this PC or your own network: the PBX, on the internet, cannot use this address. Set a public URL (a tunnel or a forwarded port) and test again.</source>
        <translation>Uygulamaya %1 üzerinden ulaşıldı, ama bu adres yalnızca bu bilgisayardan ya da kendi ağınızdan kullanılabilir: internetteki santral bu adrese ulaşamaz. Bir genel adres girin (bir tünel ya da yönlendirilmiş bir port) ve yeniden deneyin.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Reached this app through the public address %1, as the PBX will.</source>
        <translation>Uygulamaya, santralin de kullanacağı genel adres %1 üzerinden ulaşıldı.</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>%1 redirects to %2: the PBX does not follow redirects, use the final address.</source>
        <translation>%1, %2 adresine yönlendiriyor: santral yönlendirmeleri izlemez, son adresi kullanın.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The URL reaches a server, but not this app — check the path.</source>
        <translation>Adres bir sunucuya ulaşıyor ama bu uygulamaya değil — yolu kontrol edin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 answered HTTP %2: a tunnel or proxy is there, but it cannot reach this app. Check that it forwards to port %3.</source>
        <translation>%1, HTTP %2 ile yanıt verdi: arada bir tünel veya proxy var ama bu uygulamaya ulaşamıyor. %3 portuna yönlendirdiğini kontrol edin.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1 answered HTTP %2 instead of 200.</source>
        <translation>%1, 200 yerine HTTP %2 ile yanıt verdi.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Listen on address</source>
        <translation>Dinleme adresi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Port</source>
        <translation>Port</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Public URL</source>
        <translation>Genel adres (URL)</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Notification URL for the PBX</source>
        <translation>Santral için bildirim adresi</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>1. Sign in to the Bulutsantralim web portal as an administrator.</source>
        <translation>1. Bulutsantralim web portalına yönetici olarak giriş yapın.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>2. Open Settings, then the CRM integration section.</source>
        <translation>2. Ayarlar&apos;ı, ardından CRM Entegrasyonu bölümünü açın.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>3. Paste the URL above as the notification URL, turn on the ringing, answered and hangup events, and save.</source>
        <translation>3. Yukarıdaki adresi Bildirim Adresi (URL) alanına yapıştırın; çalma, yanıtlama ve kapatma olaylarını açıp kaydedin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The PBX checks the URL when you save, so bulutpop must be running. The PBX keeps a single notification URL: saving replaces any URL set for another tool.</source>
        <translation>Santral, kaydettiğinizde adresi kontrol eder; bu yüzden bulutpop açık olmalıdır. Santral tek bir bildirim adresi tutar: kaydettiğinizde başka bir araç için girilmiş adresin yerini alır.</translation>
    </message>
</context>
<context>
    <name>OverflowBar</name>
    <message>
        <location filename="../../bulutpop/ui/popup.py" line="+56"/>
        <location line="+14"/>
        <source>Close all</source>
        <translation>Tümünü kapat</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>+%1 more</source>
        <translation>+%1 daha</translation>
    </message>
</context>
<context>
    <name>PbxTab</name>
    <message>
        <location filename="../../bulutpop/ui/settings/pbx_tab.py" line="+64"/>
        <location line="+233"/>
        <source>Register this app with the PBX</source>
        <translation>Bu uygulamayı santrale kaydet</translation>
    </message>
    <message>
        <location line="-230"/>
        <source>Have the PBX send ringing, answered and hangup events to this app</source>
        <translation>Santral çalma, yanıtlama ve kapatma olaylarını bu uygulamaya göndersin</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Check again</source>
        <translation>Yeniden kontrol et</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>The number people see when you call from bulutpop.</source>
        <translation>bulutpop&apos;tan aradığınızda karşı tarafın gördüğü numara.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Catch up now</source>
        <translation>Şimdi eşitle</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Fetch the calls this app has not heard of from the PBX&apos;s call history</source>
        <translation>Bu uygulamanın haberi olmayan aramaları santralin arama geçmişinden getir</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>minutes</source>
        <translation>dakika</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Calls the app missed while it was closed or unreachable come back.</source>
        <translation>Uygulama kapalıyken veya ulaşılamazken kaçırdığı aramalar geri gelir.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>days back</source>
        <translation>gün geriye</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How far back the very first catch-up goes.</source>
        <translation>İlk eşitlemenin ne kadar geriye gideceği.</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Call events from the PBX</source>
        <translation>Santralden gelen arama olayları</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Events sent</source>
        <translation>Gönderilen olaylar</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Calling</source>
        <translation>Arama yapma</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Present my number as</source>
        <translation>Görünen numaram</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Catch-up from the call history</source>
        <translation>Arama geçmişinden eşitleme</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Catch up every</source>
        <translation>Eşitleme aralığı</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>First catch-up</source>
        <translation>İlk eşitleme</translation>
    </message>
    <message>
        <location line="+28"/>
        <location line="+89"/>
        <source>Asking the PBX…</source>
        <translation>Santrale soruluyor…</translation>
    </message>
    <message>
        <location line="-78"/>
        <source>Could not read the PBX&apos;s settings: %1</source>
        <translation>Santralin ayarları okunamadı: %1</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Ringing</source>
        <translation>Çalma</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answered</source>
        <translation>Yanıtlama</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Hangup</source>
        <translation>Kapatma</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1: on</source>
        <translation>%1: açık</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>%1: off</source>
        <translation>%1: kapalı</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>This is this app&apos;s URL.</source>
        <translation>Kayıtlı adres bu uygulamanın adresi.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>This is this app&apos;s URL, but not every event is sent: register again to turn them all on.</source>
        <translation>Kayıtlı adres bu uygulamanın adresi, ancak her olay gönderilmiyor: hepsini açmak için yeniden kaydedin.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Another URL is registered: %1 (a colleague&apos;s setup or a CRM).</source>
        <translation>Başka bir adres kayıtlı: %1 (bir iş arkadaşınızın kurulumu veya bir CRM).</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No URL is registered: the PBX announces calls to nobody.</source>
        <translation>Kayıtlı adres yok: santral aramaları kimseye bildirmiyor.</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>You changed the address on the Notifications tab: press OK to save it, then register it here.</source>
        <translation>Bildirimler sekmesinde adresi değiştirdiniz: kaydetmek için Tamam&apos;a basın, ardından buradan santrale kaydedin.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No public URL is set, so this app&apos;s URL works on this PC only and a PBX on the internet cannot reach it. Set one on the Notifications tab first.</source>
        <translation>Genel adres girilmemiş; bu yüzden bu uygulamanın adresi yalnızca bu bilgisayarda geçerli ve internetteki bir santral ona ulaşamaz. Önce Bildirimler sekmesinde bir genel adres girin.</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Not registered: %1</source>
        <translation>Kaydedilmedi: %1</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Registered: the PBX now sends its call events to this app.</source>
        <translation>Kaydedildi: santral artık arama olaylarını bu uygulamaya gönderiyor.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Already registered: nothing needed changing.</source>
        <translation>Zaten kayıtlı: değiştirilecek bir şey yoktu.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Nothing was changed on the PBX.</source>
        <translation>Santralde hiçbir şey değiştirilmedi.</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Replace the PBX&apos;s notification URL?</source>
        <translation>Santralin bildirim adresi değiştirilsin mi?</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The PBX sends its call events to one URL only. Registering this app replaces

%1

with this app&apos;s URL:

%2

If the current URL belongs to a colleague&apos;s setup or a CRM, it will no longer receive calls.</source>
        <translation>Santral arama olaylarını yalnızca tek bir adrese gönderir. Bu uygulamayı kaydetmek

%1

adresinin yerine bu uygulamanın adresini koyar:

%2

Mevcut adres bir iş arkadaşınızın kurulumuna veya bir CRM&apos;e aitse, artık arama almaz.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Send the PBX&apos;s call events to this app?</source>
        <translation>Santralin arama olayları bu uygulamaya gönderilsin mi?</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The PBX will send ringing, answered and hangup events to this app&apos;s URL:

%1</source>
        <translation>Santral çalma, yanıtlama ve kapatma olaylarını bu uygulamanın adresine gönderecek:

%1</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Replace and register</source>
        <translation>Değiştir ve kaydet</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Register</source>
        <translation>Kaydet</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>The PBX&apos;s numbers could not be listed: %1</source>
        <translation>Santralin numaraları listelenemedi: %1</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>My extension&apos;s default</source>
        <translation>Dahilimin varsayılanı</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>%1 (not offered by the PBX)</source>
        <translation>%1 (santral sunmuyor)</translation>
    </message>
    <message numerus="yes">
        <location line="+9"/>
        <source>Last catch-up %1 · %n call(s) recovered</source>
        <translation>
            <numerusform>Son eşitleme %1 · %n arama kurtarıldı</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Catching up…</source>
        <translation>Eşitleniyor…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Catching up… page %1 of %2</source>
        <translation>Eşitleniyor… sayfa %1 / %2</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The last catch-up failed: %1</source>
        <translation>Son eşitleme başarısız oldu: %1</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Next try at %1.</source>
        <translation>Sonraki deneme: %1.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No catch-up has run yet.</source>
        <translation>Henüz eşitleme yapılmadı.</translation>
    </message>
</context>
<context>
    <name>PlayerWindow</name>
    <message>
        <location filename="../../bulutpop/ui/player.py" line="+65"/>
        <source>Save recording</source>
        <translation>Ses kaydını kaydet</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Recording (*%1)</source>
        <translation>Ses kaydı (*%1)</translation>
    </message>
    <message>
        <location line="+25"/>
        <location line="+337"/>
        <source>Recording</source>
        <translation>Ses kaydı</translation>
    </message>
    <message>
        <location line="-312"/>
        <source>Position in the recording</source>
        <translation>Ses kaydındaki konum</translation>
    </message>
    <message>
        <location line="+304"/>
        <source>%1×</source>
        <translation>%1×</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Playback speed</source>
        <translation>Oynatma hızı</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Playback speed %1×</source>
        <translation>Oynatma hızı %1×</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+1"/>
        <source>Volume</source>
        <translation>Ses düzeyi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save as…</source>
        <translation>Kaydet…</translation>
    </message>
    <message>
        <location line="-198"/>
        <source>Downloading…</source>
        <translation>İndiriliyor…</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>Downloading… %1%</source>
        <translation>İndiriliyor… %%1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Downloading… %1 KB</source>
        <translation>İndiriliyor… %1 KB</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Incoming call</source>
        <translation>Gelen arama</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Outgoing call</source>
        <translation>Giden arama</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Internal call</source>
        <translation>Dahili arama</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Call</source>
        <translation>Arama</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Recording — %1</source>
        <translation>Ses kaydı — %1</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Available in %1 s</source>
        <translation>%1 sn sonra hazır</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Available now: press Play</source>
        <translation>Hazır: Dinle&apos;ye basın</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>Try again</source>
        <translation>Tekrar dene</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Pause (Space)</source>
        <translation>Duraklat (Boşluk)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Play (Space)</source>
        <translation>Dinle (Boşluk)</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>This recording cannot be played: %1</source>
        <translation>Bu ses kaydı oynatılamıyor: %1</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Could not save the recording: %1</source>
        <translation>Ses kaydı kaydedilemedi: %1</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Saved as %1</source>
        <translation>Kaydedildi: %1</translation>
    </message>
</context>
<context>
    <name>PreferencesTab</name>
    <message>
        <location filename="../../bulutpop/ui/settings/preferences_tab.py" line="+41"/>
        <source>Bottom right</source>
        <translation>Sağ alt</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bottom left</source>
        <translation>Sol alt</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Top right</source>
        <translation>Sağ üst</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Top left</source>
        <translation>Sol üst</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Play a sound when a call rings</source>
        <translation>Arama gelince ses çal</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Keep a missed call&apos;s pop-up until I close it</source>
        <translation>Cevapsız aramanın penceresi ben kapatana dek açık kalsın</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Optional: adds an “Open in CRM” button to the pop-up. {number} is the number as dialled in Türkiye (05321234567), {e164} the international form (+905321234567), {call_uuid} the PBX&apos;s id of the call.</source>
        <translation>İsteğe bağlı: açılır pencereye “CRM&apos;de aç” düğmesi ekler. {number} numaranın Türkiye&apos;de arandığı biçimi (05321234567), {e164} uluslararası biçimi (+905321234567), {call_uuid} ise santralin arama kimliğidir.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>System language</source>
        <translation>Sistem dili</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Start bulutpop when I log in</source>
        <translation>Oturum açtığımda bulutpop&apos;u başlat</translation>
    </message>
    <message>
        <location line="+10"/>
        <location line="+12"/>
        <source>days</source>
        <translation>gün</translation>
    </message>
    <message>
        <location line="-10"/>
        <source>Older calls are deleted from this PC, with their call events and the record of who listened to their recordings. Keep personal data no longer than your office needs it (KVKK).</source>
        <translation>Daha eski aramalar, çağrı olayları ve ses kayıtlarını kimin dinlediğinin kaydıyla birlikte bu bilgisayardan silinir. Kişisel verileri ofisinizin ihtiyacından uzun süre saklamayın (KVKK).</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Recordings played or saved here are deleted from this PC after this.</source>
        <translation>Burada dinlenen veya kaydedilen ses kayıtları bu süreden sonra bu bilgisayardan silinir.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Privacy (KVKK)</source>
        <translation>Gizlilik (KVKK)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Pop-up corner</source>
        <translation>Açılır pencere köşesi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sound</source>
        <translation>Ses</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Missed calls</source>
        <translation>Cevapsız çağrılar</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CRM link</source>
        <translation>CRM bağlantısı</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Language</source>
        <translation>Dil</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Startup</source>
        <translation>Başlangıç</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Keep calls</source>
        <translation>Aramaları sakla</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Keep recordings</source>
        <translation>Ses kayıtlarını sakla</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Settings saved, but starting at login could not be changed.</source>
        <translation>Ayarlar kaydedildi, ancak oturum açılışında başlatma değiştirilemedi.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../bulutpop/ui/settings/dialog.py" line="+116"/>
        <source>bulutpop setup</source>
        <translation>bulutpop kurulumu</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Settings</source>
        <translation>Ayarlar</translation>
    </message>
    <message>
        <location line="+58"/>
        <source>Account</source>
        <translation>Hesap</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Notifications</source>
        <translation>Bildirimler</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+54"/>
        <source>Preferences</source>
        <translation>Tercihler</translation>
    </message>
    <message>
        <location line="-53"/>
        <source>PBX</source>
        <translation>Santral</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Address books</source>
        <translation>Adres defterleri</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Team</source>
        <translation>Ekip</translation>
    </message>
    <message>
        <location line="+58"/>
        <source>Welcome to bulutpop</source>
        <translation>bulutpop&apos;a hoş geldiniz</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>bulutpop shows who is calling as soon as your phone rings. Did your administrator give you a team invite?</source>
        <translation>bulutpop, telefonunuz çalar çalmaz kimin aradığını gösterir. Yöneticiniz size bir ekip daveti verdi mi?</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Connect to your PBX</source>
        <translation>Santralinize bağlanın</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>For the office&apos;s administrator: bulutpop places calls and fetches recordings with the PBX&apos;s API key, and uses the extension to tell which calls are this PC&apos;s.</source>
        <translation>Ofisin yöneticisi için: bulutpop aramaları başlatmak ve ses kayıtlarını almak için santralin API anahtarını kullanır; hangi aramaların bu bilgisayara ait olduğunu dahili numaradan anlar.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The PBX, on the internet, announces every call by sending it to a web address that leads to this PC. Choose that address, then enter it in the PBX&apos;s web portal.</source>
        <translation>İnternetteki santral her aramayı, bu bilgisayara ulaşan bir web adresine göndererek bildirir. Bu adresi belirleyin, sonra santralin web portalına girin.</translation>
    </message>
    <message>
        <location line="+188"/>
        <source>Calls cannot reach this PC yet: the PBX is on the internet and cannot use %1, an address of this PC or your own network. Set up a tunnel or a forwarded port, enter its public URL on the previous page and register the notification URL in the PBX&apos;s web portal.</source>
        <translation>Aramalar henüz bu bilgisayara ulaşamıyor: santral internette ve yalnızca bu bilgisayarda ya da kendi ağınızda geçerli olan %1 adresini kullanamaz. Bir tünel ya da yönlendirilmiş bir port kurun, genel adresini önceki sayfaya girin ve bildirim adresini santralin web portalına kaydedin.</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Checking that %1 reaches this app…</source>
        <translation>%1 adresinin bu uygulamaya ulaştığı kontrol ediliyor…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Extension %1 · the PBX sends calls to %2, and a test through it reached this app.</source>
        <translation>Dahili %1 · santral aramaları %2 adresine gönderiyor; bu adresten gönderilen deneme uygulamaya ulaştı.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Calls cannot reach this PC yet: %1</source>
        <translation>Aramalar henüz bu bilgisayara ulaşamıyor: %1</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Almost done</source>
        <translation>Neredeyse bitti</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>You can finish now. Until the PBX can reach this PC, calls do not pop up while they ring; they are fetched from the PBX&apos;s call history later.</source>
        <translation>Şimdi bitirebilirsiniz. Santral bu bilgisayara ulaşana kadar aramalar çalarken ekrana gelmez; sonradan santralin arama geçmişinden alınır.</translation>
    </message>
    <message>
        <location line="-233"/>
        <source>Receive call notifications</source>
        <translation>Arama bildirimlerini alın</translation>
    </message>
    <message>
        <location line="+8"/>
        <location line="+220"/>
        <source>You&apos;re all set</source>
        <translation>Her şey hazır</translation>
    </message>
    <message>
        <location line="-218"/>
        <source>bulutpop waits in the system tray. When a call rings for you, a small window shows who is calling; missed calls collect behind the tray icon.</source>
        <translation>bulutpop sistem tepsisinde bekler. Size bir arama geldiğinde küçük bir pencere kimin aradığını gösterir; cevapsız çağrılar tepsi simgesinde birikir.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Cancel</source>
        <translation>İptal</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Back</source>
        <translation>Geri</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+63"/>
        <source>Next</source>
        <translation>İleri</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Step %1 of %2</source>
        <translation>Adım %1 / %2</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Finish</source>
        <translation>Bitir</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Paste the invite and press Join first.</source>
        <translation>Önce daveti yapıştırıp Katıl&apos;a basın.</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>Extension %1 · calls come from the team server %2</source>
        <translation>Dahili %1 · aramalar %2 ekip sunucusundan gelir</translation>
    </message>
    <message>
        <location line="+154"/>
        <location line="+23"/>
        <source>Fix the highlighted fields first.</source>
        <translation>Önce işaretli alanları düzeltin.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Could not save the settings: %1</source>
        <translation>Ayarlar kaydedilemedi: %1</translation>
    </message>
</context>
<context>
    <name>SettingsTab</name>
    <message>
        <location filename="../../bulutpop/ui/settings/shared.py" line="+293"/>
        <source>In team mode, call events come from the team server; no API key is needed.</source>
        <translation>Ekip modunda arama olayları ekip sunucusundan gelir; API anahtarı gerekmez.</translation>
    </message>
</context>
<context>
    <name>Shell</name>
    <message>
        <location filename="../../bulutpop/ui/tray.py" line="-332"/>
        <location line="+246"/>
        <source>Present my number as</source>
        <translation>Görünen numaram</translation>
    </message>
    <message>
        <location line="-167"/>
        <source>Setup not finished: %1</source>
        <translation>Kurulum tamamlanmadı: %1</translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>%n missed call(s)</source>
        <translation>
            <numerusform>%n cevapsız çağrı</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+12"/>
        <source>Popups paused</source>
        <translation>Açılır pencereler duraklatıldı</translation>
    </message>
    <message>
        <location line="-10"/>
        <location line="+12"/>
        <source>Do not disturb is on</source>
        <translation>Rahatsız etme açık</translation>
    </message>
    <message>
        <location line="-9"/>
        <source>Listening for calls</source>
        <translation>Aramalar bekleniyor</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Receiver: %1</source>
        <translation>Alıcı: %1</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Catching up from the PBX&apos;s call history…</source>
        <translation>Santralin arama geçmişinden eşitleniyor…</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>Last catch-up %1 · %n call(s) recovered</source>
        <translation>
            <numerusform>Son eşitleme %1 · %n arama kurtarıldı</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Catch-up failed: %1</source>
        <translation>Eşitleme başarısız: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Retrying at %1.</source>
        <translation>Yeniden deneme: %1.</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Do not disturb was not changed</source>
        <translation>Rahatsız etme değiştirilemedi</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Missed calls (%1)</source>
        <translation>Cevapsız çağrılar (%1)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Call history</source>
        <translation>Arama geçmişi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dial…</source>
        <translation>Ara…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Settings</source>
        <translation>Ayarlar</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>About</source>
        <translation>Hakkında</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Quit</source>
        <translation>Çıkış</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Finish setup…</source>
        <translation>Kurulumu tamamla…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Latest call…</source>
        <translation>Son arama…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Move the keyboard to the newest popup (Esc closes it)</source>
        <translation>Klavyeyi en yeni açılır pencereye taşı (Esc ile kapanır)</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Pause popups</source>
        <translation>Açılır pencereleri duraklat</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Do not disturb</source>
        <translation>Rahatsız etme</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Your phone does not ring while this is on</source>
        <translation>Bu açıkken telefonunuz çalmaz</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>My extension&apos;s default</source>
        <translation>Dahilimin varsayılanı</translation>
    </message>
</context>
<context>
    <name>StartPage</name>
    <message>
        <location filename="../../bulutpop/ui/settings/start_page.py" line="+37"/>
        <source>Check again</source>
        <translation>Yeniden dene</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Yes, I have a team invite</source>
        <translation>Evet, ekip davetim var</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Paste the whole line your administrator sent (it starts with bulutpop-team:) and press Join. That is all this PC needs: no API key, no address for the PBX.</source>
        <translation>Yöneticinizin gönderdiği satırın tamamını yapıştırın (bulutpop-team: ile başlar) ve Katıl&apos;a basın. Bu bilgisayarın ihtiyacı bu kadar: API anahtarı da santral için bir adres de gerekmez.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>No, connect this PC to the PBX directly (for administrators)</source>
        <translation>Hayır, bu bilgisayarı santrale doğrudan bağla (yöneticiler için)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Needs the PBX&apos;s API key, and an address on the internet through which the PBX reaches this PC (a tunnel or a forwarded port). Agents: ask your administrator for a team invite instead.</source>
        <translation>Santralin API anahtarı ve santralin bu bilgisayara internet üzerinden ulaşacağı bir adres (bir tünel ya da yönlendirilmiş bir port) gerekir. Temsilciyseniz yöneticinizden bir ekip daveti isteyin.</translation>
    </message>
    <message>
        <location line="+63"/>
        <source>This PC has no keyring to keep bulutpop&apos;s credentials in (such as GNOME Keyring or KWallet), and bulutpop never writes them to a file. Ask whoever looks after this PC to install one (on Debian, Ubuntu or Mint: the gnome-keyring package), then log out and back in, and press Check again.</source>
        <translation>Bu bilgisayarda bulutpop&apos;un kimlik bilgilerini saklayacağı bir anahtar deposu (GNOME Keyring ya da KWallet gibi) yok; bulutpop bunları hiçbir zaman bir dosyaya yazmaz. Bu bilgisayarla ilgilenen kişiden bir anahtar deposu kurmasını isteyin (Debian, Ubuntu veya Mint&apos;te: gnome-keyring paketi), sonra oturumu kapatıp yeniden açın ve Yeniden dene&apos;ye basın.</translation>
    </message>
</context>
<context>
    <name>StatusLine</name>
    <message>
        <location filename="../../bulutpop/ui/common/widgets.py" line="+87"/>
        <source>Undo</source>
        <translation>Geri al</translation>
    </message>
</context>
<context>
    <name>TakeoverConfirmation</name>
    <message>
        <location filename="../../bulutpop/ui/missed/window.py" line="-438"/>
        <source>Take over the callback</source>
        <translation>Geri aramayı devral</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 claimed this callback %2.</source>
        <translation>%1 bu geri aramayı %2 üstlendi.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 is calling this caller back.</source>
        <translation>%1 bu arayanı geri arıyor.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A colleague is calling this caller back.</source>
        <translation>Bir çalışma arkadaşınız bu arayanı geri arıyor.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Take the callback over and call now? Your colleague&apos;s list then shows that you are calling back; they may already be on the phone with the caller.</source>
        <translation>Geri aramayı devralıp şimdi aramak istiyor musunuz? Çalışma arkadaşınızın listesinde artık sizin geri aradığınız görünür; kendisi o sırada arayanla görüşüyor olabilir.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Take over and call</source>
        <translation>Devral ve ara</translation>
    </message>
</context>
<context>
    <name>TeamTab</name>
    <message>
        <location filename="../../bulutpop/ui/settings/team_tab.py" line="+69"/>
        <source>Paste the invite (bulutpop-team:…)</source>
        <translation>Daveti yapıştırın (bulutpop-team:…)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Join</source>
        <translation>Katıl</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>I have a team invite</source>
        <translation>Ekip davetim var</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>If your office shares its PBX through a team server, paste the invite your administrator gave you. Calls then reach this PC through the team server, and dialling and recordings go through it too: no API key or notification URL is needed here.</source>
        <translation>Ofisiniz santralini bir ekip sunucusu üzerinden paylaşıyorsa, yöneticinizin verdiği daveti buraya yapıştırın. Aramalar bu bilgisayara ekip sunucusu üzerinden gelir; arama başlatma ve ses kayıtları da onun üzerinden yapılır: burada API anahtarı ya da bildirim adresi gerekmez.</translation>
    </message>
    <message>
        <location line="+17"/>
        <location line="+178"/>
        <location line="+10"/>
        <source>Leave the team</source>
        <translation>Ekipten ayrıl</translation>
    </message>
    <message>
        <location line="-184"/>
        <source>Your team</source>
        <translation>Ekibiniz</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Agent</source>
        <translation>Temsilci</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name</source>
        <translation>Ad</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Extension</source>
        <translation>Dahili</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Shared queues</source>
        <translation>Paylaşılan kuyruklar</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Team server</source>
        <translation>Ekip sunucusu</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Connection</source>
        <translation>Bağlantı</translation>
    </message>
    <message>
        <location line="+16"/>
        <location line="+13"/>
        <source>Join a team</source>
        <translation>Bir ekibe katıl</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Replace with a new invite</source>
        <translation>Yeni bir davetle değiştir</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>None</source>
        <translation>Yok</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Not connected</source>
        <translation>Bağlı değil</translation>
    </message>
    <message>
        <location line="+68"/>
        <source>Not joined: %1</source>
        <translation>Ekibe katılınamadı: %1</translation>
    </message>
    <message>
        <location line="-38"/>
        <source>Invite for agent %1, extension %2, team server %3.</source>
        <translation>Temsilci %1, dahili %2, ekip sunucusu %3 için davet.</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Joining…</source>
        <translation>Katılınıyor…</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Joined the team as %1 (extension %2). Calls now come from the team server.</source>
        <translation>Ekibe %1 olarak katıldınız (dahili %2). Aramalar artık ekip sunucusundan geliyor.</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Could not leave the team: %1</source>
        <translation>Ekipten ayrılınamadı: %1</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>You left the team. To receive calls, this PC needs an API key and a notification URL of its own again.</source>
        <translation>Ekipten ayrıldınız. Arama alabilmesi için bu bilgisayarın yeniden kendi API anahtarına ve bildirim adresine ihtiyacı var.</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Leave the team?</source>
        <translation>Ekipten ayrılmak istiyor musunuz?</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Calls will no longer reach this PC through the team server, and this PC&apos;s team credential is deleted. To join again you need a new invite.</source>
        <translation>Aramalar artık bu bilgisayara ekip sunucusu üzerinden gelmez ve bu bilgisayarın ekip kimliği silinir. Yeniden katılmak için yeni bir davet gerekir.</translation>
    </message>
</context>
<context>
    <name>app</name>
    <message>
        <location filename="../../bulutpop/ui/app.py" line="+69"/>
        <source>Something went wrong: %1

Details are in the log file.</source>
        <translation>Bir sorun oluştu: %1

Ayrıntılar günlük dosyasında.</translation>
    </message>
</context>
<context>
    <name>ask_name</name>
    <message>
        <location filename="../../bulutpop/ui/common/widgets.py" line="+101"/>
        <source>Edit name</source>
        <translation>Adı düzenle</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Name to show for %1 on this PC.
Leave empty to use the address books.</source>
        <translation>Bu bilgisayarda %1 için gösterilecek ad.
Adres defterlerindeki adı kullanmak için boş bırakın.</translation>
    </message>
</context>
<context>
    <name>copy_number</name>
    <message>
        <location filename="../../bulutpop/ui/common/actions.py" line="+100"/>
        <source>Copied %1.</source>
        <translation>%1 kopyalandı.</translation>
    </message>
</context>
<context>
    <name>describe_error</name>
    <message>
        <location filename="indirect_strings.py" line="+29"/>
        <source>The API key was refused: check it in Settings.</source>
        <translation>API anahtarı reddedildi: Ayarlar&apos;dan kontrol edin.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The PBX refused the request.</source>
        <oldsource>The PBX refused: %1</oldsource>
        <translation>Santral isteği reddetti.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The PBX had a problem; try again in a moment.</source>
        <oldsource>The PBX had a problem (%1); try again in a moment.</oldsource>
        <translation>Santralde bir sorun oluştu; birazdan yeniden deneyin.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>macOS may be blocking local network access: System Settings → Privacy and Security → Local Network → allow bulutpop.</source>
        <translation>macOS yerel ağ erişimini engelliyor olabilir: Sistem Ayarları → Gizlilik ve Güvenlik → Yerel Ağ → bulutpop&apos;a izin verin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No answer from the PBX: the call may or may not have been placed. Check your phone before dialling again.</source>
        <translation>Santral yanıt vermedi: arama başlamış olabilir de olmayabilir de. Tekrar aramadan önce telefonunuza bakın.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Could not reach the PBX; the call was not placed (%1).</source>
        <translation>Santrale ulaşılamadı; arama başlatılmadı (%1).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Could not reach the server (%1).</source>
        <translation>Sunucuya ulaşılamadı (%1).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Could not save the recording: %1</source>
        <translation>Ses kaydı kaydedilemedi: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The call history file cannot be read (%1). Move it aside and start bulutpop again: a new one is made.</source>
        <translation>Arama geçmişi dosyası okunamıyor (%1). Dosyayı başka bir yere taşıyıp bulutpop&apos;u yeniden başlatın: yenisi oluşturulur.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This copy of bulutpop cannot search the call history (its SQLite has no FTS5 trigram search: %1). Install the official build of bulutpop.</source>
        <translation>bulutpop&apos;un bu kopyası arama geçmişinde arama yapamıyor (SQLite&apos;ında FTS5 trigram araması yok: %1). bulutpop&apos;un resmî sürümünü kurun.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The call history was written by a newer bulutpop: update the app.</source>
        <translation>Arama geçmişi bulutpop&apos;un daha yeni bir sürümüyle yazılmış: uygulamayı güncelleyin.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The call history cannot be saved: %1</source>
        <translation>Arama geçmişi kaydedilemiyor: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Port %1 is already in use (is bulutpop already running?): choose another in Settings.</source>
        <translation>%1 numaralı port zaten kullanımda (bulutpop zaten açık mı?): Ayarlar&apos;dan başka bir port seçin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Cannot listen on %1 (%2): check the address in Settings.</source>
        <translation>%1 adresinde dinlenemiyor (%2): Ayarlar&apos;dan adresi kontrol edin.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The team&apos;s message broker: %1</source>
        <translation>Ekibin mesaj sunucusu: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The team server: %1</source>
        <translation>Ekip sunucusu: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>macOS runs bulutpop from a temporary copy of the download, which will not be there at the next login: move bulutpop.app into Applications, open it from there and try again.</source>
        <translation>macOS, bulutpop&apos;u indirilen dosyanın geçici bir kopyasından çalıştırıyor ve bu kopya bir sonraki oturum açışta olmayacak: bulutpop.app&apos;i Uygulamalar klasörüne taşıyın, oradan açın ve yeniden deneyin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Starting at login could not be changed: %1</source>
        <translation>Oturum açılışında başlatma ayarı değiştirilemedi: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Something went wrong: %1</source>
        <translation>Bir sorun oluştu: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The PBX&apos;s reply: %1</source>
        <translation>Santralin yanıtı: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The login keychain is locked: unlock it in Keychain Access and try again.</source>
        <translation>Giriş anahtar zinciri kilitli: Anahtar Zinciri Erişimi&apos;nde kilidini açıp tekrar deneyin.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The system keyring is locked: unlock it (log in again) and try again.</source>
        <translation>Sistemin anahtar deposu kilitli: kilidini açıp (yeniden oturum açarak) tekrar deneyin.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Windows Credential Manager cannot be reached, so the %1 cannot be kept: sign out and in again.</source>
        <translation>Windows Kimlik Bilgileri Yöneticisi&apos;ne ulaşılamıyor, bu yüzden %1 saklanamıyor: oturumu kapatıp yeniden açın.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The macOS Keychain cannot be reached, so the %1 cannot be kept: sign out and in again.</source>
        <translation>macOS Anahtar Zinciri&apos;ne ulaşılamıyor, bu yüzden %1 saklanamıyor: oturumu kapatıp yeniden açın.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No system keyring is available, so the %1 cannot be kept safely: install and start one (for example GNOME Keyring).</source>
        <translation>Sistemde anahtar deposu yok, bu yüzden %1 güvenle saklanamıyor: bir anahtar deposu kurup başlatın (örneğin GNOME Keyring).</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The keyring %1 would keep the %2 unencrypted, so it was not stored there.</source>
        <translation>%1 anahtar deposu şifreleme yapmadığı için %2 oraya kaydedilmedi.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Windows Credential Manager failed (%1): try again.</source>
        <translation>Windows Kimlik Bilgileri Yöneticisi hata verdi (%1): tekrar deneyin.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The macOS Keychain failed (%1): try again.</source>
        <translation>macOS Anahtar Zinciri hata verdi (%1): tekrar deneyin.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The system keyring failed (%1): check that it runs and is unlocked.</source>
        <translation>Sistemin anahtar deposu hata verdi (%1): çalıştığını ve kilidinin açık olduğunu kontrol edin.</translation>
    </message>
    <message>
        <location line="-87"/>
        <source>“%1” is not a phone number.</source>
        <translation>“%1” bir telefon numarası değil.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not dialled: already calling %1.</source>
        <translation>Aranmadı: %1 şu anda aranıyor.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not dialled: %1 was dialled a moment ago.</source>
        <translation>Aranmadı: %1 az önce arandı.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Setup needed: %1. Open Settings to finish it.</source>
        <translation>Kurulum gerekli: %1. Tamamlamak için Ayarlar&apos;ı açın.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This is not a team invite: ask your administrator for one.</source>
        <translation>Bu bir ekip daveti değil: yöneticinizden bir davet isteyin.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The invite is incomplete or damaged: copy the whole line again.</source>
        <translation>Davet eksik ya da bozuk: satırın tamamını yeniden kopyalayın.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This cannot be used: %1</source>
        <translation>Bu kullanılamıyor: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This PC was removed from the team. To join again, ask your administrator for a new invite.</source>
        <translation>Bu bilgisayar ekipten çıkarıldı. Yeniden katılmak için yöneticinizden yeni bir davet isteyin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The team server refused this PC: ask your administrator for a new invite.</source>
        <translation>Ekip sunucusu bu bilgisayarı kabul etmedi: yöneticinizden yeni bir davet isteyin.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Too many requests: try again in %1 s.</source>
        <translation>Çok fazla istek: %1 sn sonra tekrar deneyin.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This recording is not available (it may have expired).</source>
        <translation>Bu ses kaydına ulaşılamıyor (süresi dolmuş olabilir).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The PBX does not know this call.</source>
        <translation>Santral bu aramayı tanımıyor.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The recording link has expired: try again.</source>
        <translation>Ses kaydı bağlantısının süresi doldu: tekrar deneyin.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The PBX answered “not found”: check the API address in Settings.</source>
        <translation>Santral “bulunamadı” yanıtı verdi: Ayarlar&apos;dan API adresini kontrol edin.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The PBX refused the call.</source>
        <oldsource>The PBX refused the call: %1</oldsource>
        <translation>Santral aramayı reddetti.</translation>
    </message>
    <message>
        <location filename="../../bulutpop/ui/common/errors.py" line="+208"/>
        <source>team secret</source>
        <translation>ekip parolası</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API key</source>
        <translation>API anahtarı</translation>
    </message>
</context>
<context>
    <name>describe_team</name>
    <message>
        <location filename="../../bulutpop/ui/tray.py" line="-309"/>
        <source>Team: connected</source>
        <translation>Ekip: bağlı</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Team: credential refused — ask for a new invite</source>
        <translation>Ekip: kimlik reddedildi — yeni davet isteyin</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Team: this PC was removed from the team</source>
        <translation>Ekip: bu bilgisayar ekipten çıkarıldı</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Team: reconnecting since %1%2</source>
        <comment>%1: a time (10:42); %2: Turkish ablative suffix for it (&apos;den, &apos;tan…), empty in other languages</comment>
        <translation>Ekip: yeniden bağlanıyor (%1%2 beri)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Team: connecting…</source>
        <translation>Ekip: bağlanıyor…</translation>
    </message>
</context>
<context>
    <name>edit_name</name>
    <message>
        <location filename="../../bulutpop/ui/common/actions.py" line="+44"/>
        <source>%1 is now shown as “%2”.</source>
        <translation>%1 artık “%2” olarak görünüyor.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 shows its address book name again.</source>
        <translation>%1 yeniden adres defterindeki adıyla görünüyor.</translation>
    </message>
</context>
<context>
    <name>fmt</name>
    <message>
        <location filename="../../bulutpop/ui/common/fmt.py" line="+35"/>
        <source>just now</source>
        <translation>az önce</translation>
    </message>
    <message>
        <location line="-15"/>
        <source>yesterday %1</source>
        <translation>dün %1</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>%1 min ago</source>
        <translation>%1 dk önce</translation>
    </message>
</context>
<context>
    <name>forget_number</name>
    <message>
        <location filename="../../bulutpop/ui/common/actions.py" line="+71"/>
        <source>Deleting the records of %1…</source>
        <translation>%1 numarasının kayıtları siliniyor…</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Deleted everything this PC kept about %1. The PBX still has its own copies.</source>
        <translation>Bu bilgisayarın %1 hakkında tuttuğu her şey silindi. Santralde kendi kopyaları duruyor.</translation>
    </message>
</context>
<context>
    <name>missing_setup</name>
    <message>
        <location filename="../../bulutpop/ui/common/errors.py" line="+6"/>
        <source>no API key is stored</source>
        <translation>kayıtlı API anahtarı yok</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no extension is configured</source>
        <translation>dahili numara ayarlanmamış</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>this PC&apos;s team secret is missing</source>
        <translation>bu bilgisayarın ekip parolası eksik</translation>
    </message>
</context>
<context>
    <name>notes</name>
    <message>
        <location filename="indirect_strings.py" line="+68"/>
        <source>Note on the caller</source>
        <translation>Arayan hakkında not</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A short note on %1, shown on their next call.
Leave empty to remove it.</source>
        <translation>%1 için kısa bir not; bir sonraki aramasında gösterilir.
Silmek için boş bırakın.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Note kept on this PC; your team was not told: %1</source>
        <translation>Not bu bilgisayarda saklandı; ekibinize iletilemedi: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Note on %1 saved.</source>
        <translation>%1 için not kaydedildi.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Note on %1 removed.</source>
        <translation>%1 için not silindi.</translation>
    </message>
</context>
<context>
    <name>place_call</name>
    <message>
        <location filename="../../bulutpop/ui/common/actions.py" line="-121"/>
        <source>Calling %1… your phone will ring.</source>
        <translation>%1 aranıyor… telefonunuz çalacak.</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Your phone is ringing — pick up to call %1.</source>
        <translation>Telefonunuz çalıyor — açtığınızda %1 aranacak.</translation>
    </message>
</context>
<context>
    <name>self.model</name>
    <message>
        <location filename="../../bulutpop/ui/history/window.py" line="-222"/>
        <source>▶ Play</source>
        <translation>▶ Dinle</translation>
    </message>
</context>
</TS>
